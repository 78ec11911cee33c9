'use strict';
/*
 * The admin dashboard (docs/ADMIN.md "Dashboard"). It polls GET /state once
 * a second with the bearer token the operator typed in (kept in this tab's
 * sessionStorage, sent only as an Authorization header to this origin),
 * while the tab is visible; rates come from the difference of two readings.
 * Everything from the server is written with textContent, never as HTML.
 */
(() => {
  const POLL_MS = 1000;
  const KEY = 'litecord-voice-admin-token';
  const NONE = '–';
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem(KEY);
  let prev = null; // the previous reading of /state
  let timer = null;
  let busy = false;

  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  const fmt = (v, digits = 0, unit = '') => (isNum(v) ? `${v.toFixed(digits)}${unit}` : NONE);
  const count = (v) => (isNum(v) ? v.toLocaleString('en') : NONE);

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  const micros = (us) => (isNum(us) && us >= 1000 ? fmt(us / 1000, 1, ' ms') : fmt(us, 0, ' µs'));

  function ago(ms, now) {
    if (!isNum(ms)) return 'never';
    const s = Math.max(0, Math.round((now - ms) / 1000));
    return s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
  }

  /* Per second between two readings, or undefined. */
  function rate(cur, old, dtMs) {
    return isNum(cur) && isNum(old) && dtMs > 0 && cur >= old ? ((cur - old) * 1000) / dtMs : undefined;
  }

  function card(key, value, sub, cls) {
    const c = el('div', null, 'card');
    c.dataset.card = key;
    c.append(el('div', key, 'k'), el('div', value, `v ${cls || ''}`), el('div', sub || '', 's'));
    return c;
  }

  function lvspCards(l, now) {
    if (!l) return [card('LVSP link', NONE), card('Health', NONE)];
    const link = l.connected
      ? card('LVSP link', 'up', `${l.dialect || ''} ${l.peer || ''}, since ${ago(l.up_since, now)}; heartbeat ${ago(l.last_heartbeat, now)}`, 'ok')
      : card('LVSP link', 'down', `since ${ago(l.down_since, now)}`, 'bad');
    const load = l.load || {};
    const health = card('Health', fmt(l.health, 3), `media CPU share ${fmt(load.media_cpu_share, 3)}, drops ${fmt(load.drop_ratio, 3)}`);
    return [link, health];
  }

  function mediaCards(m, old, dt) {
    if (!m) return [];
    const o = old || {};
    const cpu = rate(m.cpu_seconds, o.cpu_seconds, dt);
    const drops = Object.values(m.drops || {}).reduce((a, b) => a + b, 0);
    const fd = m.forward_delay || {};
    return [
      card('Media CPU', fmt(isNum(cpu) ? cpu * 100 : undefined, 1, ' %'), `${fmt(m.cpu_seconds, 1)} s, ${m.workers} worker(s)`),
      card('RTP in /s', fmt(rate(m.rx_rtp, o.rx_rtp, dt)), `${count(m.rx_rtp)} total`),
      card('Packets out /s', fmt(rate(m.tx_packets, o.tx_packets, dt)), `${count(m.tx_packets)} total`),
      card('Drops', count(drops), `send errors ${count(m.send_errors)}`, drops ? 'bad' : ''),
      card('Forwarding delay', micros(fd.p50_us), `p99 ${micros(fd.p99_us)}`),
    ];
  }

  function renderCards(st, old, dt) {
    const fe = st.frontends || {};
    const gw = fe['discord voice gateway'] || {};
    const conn = st.connections || {};
    $('cards').replaceChildren(
      ...lvspCards(fe.lvsp, st.now),
      card('Voice states', `${count(st.voice_states)} / ${count(st.capacity)}`, `${count(st.channel_count)} channel(s)`),
      card('Connections', `${count(gw.sessions)} / ${count(conn.max)}`, `refused ${count(conn.refused)}`),
      ...mediaCards(st.media, old && old.media, dt));
  }

  /* [heading, class]: the class names the column's cells and sets its width (dashboard.css). */
  const COLUMNS = [['User', 'user'], ['Session', 'session'], ['Transport', 'transport'], ['Mode', 'mode'],
    ['Speaking', 'speaking'], ['Muted / deaf', 'flags'], ['In kb/s', 'rx-kbps'], ['Out kb/s', 'tx-kbps'],
    ['Loss', 'loss'], ['Jitter', 'jitter'], ['RTT', 'rtt'], ['Packets in', 'rx-packets'],
    ['Packets out', 'tx-packets'], ['Drops', 'drops'], ['Last in', 'last-rx']];

  function flagsText(f) {
    if (!f) return NONE;
    const on = [['mute', 'muted'], ['self_mute', 'self-muted'], ['deaf', 'deafened'], ['self_deaf', 'self-deaf'], ['suppress', 'suppressed']]
      .filter(([k]) => f[k]).map(([, name]) => name);
    return on.length ? on.join(', ') : 'no';
  }

  /* kb/s: the server's figure when it gives one, else from two readings. */
  function kbps(q, field, stats, oldStats, bytesField, dt) {
    if (isNum(q[field])) return q[field];
    const r = oldStats && rate(stats[bytesField], oldStats[bytesField], dt);
    return isNum(r) ? (r * 8) / 1000 : undefined;
  }

  function memberRow(m, old, dt) {
    const q = m.quality || {};
    const s = m.stats || {};
    const os = old && old.session_id === m.session_id ? old.stats : null;
    const loss = isNum(q.loss_fraction) ? `${(q.loss_fraction * 100).toFixed(1)} %${isNum(q.lost_total) ? ` (${q.lost_total})` : ''}` : NONE;
    const speaking = m.speaking ? 'yes' : 'no';
    const cells = [
      [m.user_id, 'user'], [(m.session_id || '').slice(0, 8), 'session'],
      // Every member uses the Discord UDP transport until a front end says otherwise.
      [m.transport || (m.mode ? 'discord_udp' : NONE), 'transport'], [m.mode || NONE, 'mode'],
      [speaking, 'speaking'], [flagsText(m.flags), 'flags'],
      [fmt(kbps(q, 'rx_kbps', s, os, 'rx_bytes', dt), 1), 'rx-kbps'],
      [fmt(kbps(q, 'tx_kbps', s, os, 'tx_bytes', dt), 1), 'tx-kbps'],
      [loss, 'loss'], [fmt(q.jitter_ms, 1, ' ms'), 'jitter'], [fmt(q.rtt_ms, 0, ' ms'), 'rtt'],
      [count(s.rx_packets), 'rx-packets'], [count(s.tx_packets), 'tx-packets'], [count(s.drops), 'drops'],
      [isNum(q.last_rx_age_ms) ? `${(q.last_rx_age_ms / 1000).toFixed(1)} s ago` : NONE, 'last-rx'],
    ];
    const tr = el('tr', null, m.speaking ? 'speaking' : '');
    tr.dataset.user = m.user_id;
    // A cell too narrow for its text shows an ellipsis: the title keeps it whole.
    for (const [text, cls] of cells) {
      const td = el('td', text, cls);
      td.title = td.textContent;
      tr.append(td);
    }
    tr.children[4].prepend(el('span', null, 'dot'), ' ');
    if (!m.connected) tr.children[0].append(el('span', ' (no client)', 'muted'));
    tr.children[0].title = tr.children[0].textContent;
    tr.children[1].title = m.session_id || '';
    return tr;
  }

  function channelSection(ch, oldMembers, dt) {
    const sec = el('section');
    sec.dataset.channel = ch.id;
    const members = ch.members || [];
    sec.append(el('h2', `Channel ${ch.id}` + (ch.guild_id ? ` · guild ${ch.guild_id}` : '') +
      ` · ${members.length} member(s)` + (ch.bitrate > 0 ? ` · ${ch.bitrate / 1000} kb/s` : '') +
      ` · UDP ${ch.udp_port}`));
    const table = el('table');
    const head = el('tr');
    for (const [text, cls] of COLUMNS) {
      const th = el('th', text, cls);
      th.title = text;
      head.append(th);
    }
    table.append(head);
    for (const m of members) table.append(memberRow(m, oldMembers.get(m.user_id), dt));
    const scroll = el('div', null, 'scroll');
    scroll.append(table);
    sec.append(scroll);
    return sec;
  }

  function renderChannels(st, old, dt) {
    const oldMembers = new Map();
    for (const ch of (old && old.channels) || []) for (const m of ch.members || []) oldMembers.set(m.user_id, m);
    const list = (st.channels || []).map((ch) => channelSection(ch, oldMembers, dt));
    if (!list.length) list.push(el('p', 'No channels.', 'muted'));
    $('channels').replaceChildren(...list);
  }

  function renderStatus(st) {
    const b = $('status');
    const d = st.drain;
    b.textContent = d ? `draining (${d.reason}), ${Math.max(0, Math.round((d.deadline - st.now) / 1000))} s left` : st.status;
    b.className = `badge ${d ? 'warn' : 'ok'}`;
    // Readiness (GET /ready): the limits that stop new calls; a drain is the badge above.
    const r = st.readiness;
    const limits = r && !r.ready ? (r.reasons || []).filter((x) => x !== 'draining') : [];
    $('ready').textContent = limits.length ? `not ready: ${limits.join(', ')}` : '';
    $('ready').hidden = !limits.length;
    $('version').textContent = st.version || '';
    $('updated').textContent = `updated ${new Date(st.now).toLocaleTimeString('en-GB')}`;
  }

  function render(st) {
    const dt = prev && isNum(prev.now) ? st.now - prev.now : 0;
    renderStatus(st);
    renderCards(st, prev, dt);
    renderChannels(st, prev, dt);
  }

  function showError(text) {
    $('error').textContent = text;
    $('error').hidden = !text;
  }

  function showLogin(why) {
    $('login').hidden = false;
    $('view').hidden = true;
    $('signout').hidden = true;
    $('login-error').textContent = why || '';
    $('token').focus();
  }

  function schedule() {
    if (token && !document.hidden && !timer) timer = setTimeout(poll, POLL_MS);
  }

  async function poll() {
    timer = null;
    if (busy || !token) return;
    busy = true;
    try {
      const r = await fetch('/state', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
      if (r.status === 401) {
        token = null;
        prev = null;
        sessionStorage.removeItem(KEY);
        showLogin('The admin API refused this token.');
        return;
      }
      if (!r.ok) throw new Error(`GET /state: HTTP ${r.status}`);
      const st = await r.json();
      $('login').hidden = true;
      $('view').hidden = false;
      $('signout').hidden = false;
      showError('');
      render(st);
      prev = st;
    } catch (err) {
      showError(`The admin API did not answer: ${err.message}`);
    } finally {
      busy = false;
      schedule();
    }
  }

  $('login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('token').value.trim();
    $('token').value = '';
    sessionStorage.setItem(KEY, token);
    poll();
  });
  $('signout').addEventListener('click', () => {
    token = null;
    prev = null;
    sessionStorage.removeItem(KEY);
    clearTimeout(timer);
    timer = null;
    showLogin('');
  });
  document.addEventListener('visibilitychange', schedule);
  if (token) poll();
  else showLogin('');
})();
