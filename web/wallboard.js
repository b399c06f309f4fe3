/*
 * wallboard.js - the wallboard's behaviour: sign-in, the live alert stream, the lists, two languages.
 *
 * Data flow.  GET /v1/session says who we are (401: show the sign-in form;
 * it POSTs the token once and the daemon sets an HttpOnly session cookie).
 * Alerts come from the SSE stream /v1/alerts/stream: first the open alerts,
 * then each new or escalated alert as it is committed, and `ack` events when
 * someone acknowledges one.  They are kept in a Map keyed by alert id, so an
 * alert replayed after a reconnect replaces itself and is never shown twice.
 * Whenever the stream breaks (a daemon restart, a proxy, a slow-client
 * drop) the page closes it and opens a new one every two seconds until it
 * is back, with the whole replay (not the browser's Last-Event-ID resume,
 * which skips an older alert escalated meanwhile): each replayed alert
 * replaces itself, at its current level.
 * Overdue callbacks, overdue work orders and today's figures come from
 * GET /v1/board every 15 s.  Ages and lateness tick every second.
 *
 * Acknowledging POSTs /v1/alerts/{id}/ack with the X-CSRF-Token the session
 * gave us (the daemon refuses a cookie-authenticated POST without it).  The
 * session is asked again with every board refresh: the daemon renews the
 * cookie in the second half of its 12 hours, with a new CSRF token.
 */
'use strict';

const TEXT = {
  en: {
    title: 'Hotline wallboard', connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…',
    sound: 'Sound', signout: 'Sign out', signin_title: 'Sign in', token: 'Access token', signin: 'Sign in',
    signin_failed: 'This token was not accepted.', figures_today: 'Today', fig_answered: 'answered within 15 s',
    fig_abandoned: 'abandoned', fig_callbacks: 'callbacks in time', fig_repeat: 'repeat-call rate',
    open_alerts: 'Open alerts', col_level: 'Level', col_kind: 'Alert', col_case: 'Case', col_caller: 'Caller',
    col_age: 'Age', no_alerts: 'No open alerts.', overdue_callbacks: 'Overdue callbacks',
    col_department: 'Department', col_late: 'Late by', col_attempts: 'Attempts', no_callbacks: 'No overdue callbacks.',
    overdue_orders: 'Overdue work orders', no_orders: 'No overdue work orders.', ack: 'Acknowledge',
    level: 'Level', replay_note: '{n} older open alerts are not shown (see hotline.open_alerts).',
    none_dept: '(no department)', order: 'Order', lang_other: '中文',
    figures_stale: 'Today\'s figures are not shown: they were counted in another time zone than the one '
      + 'configured now. An administrator must run hotlined --migrate.',
    kinds: {
      callback_overdue: 'Callback overdue', callback_due_soon: 'Callback due soon', update_overdue: 'Update overdue',
      update_due_soon: 'Update due soon', resolution_overdue: 'Resolution overdue',
      resolution_due_soon: 'Resolution due soon', survey_overdue: 'Survey overdue', survey_due_soon: 'Survey due soon',
      repeat_caller: 'Repeat caller', dissatisfied: 'Dissatisfied caller', transfer_loop: 'Transferred too often',
      redispatch_overdue: 'Returned order not dispatched again', redispatch_due_soon: 'Redispatch due soon',
      order_sign_overdue: 'Work order not signed', order_reply_overdue: 'Work order reply overdue',
      buck_passing: 'Passed back to a department', hotspot: 'Hotspot',
    },
  },
  'zh-CN': {
    title: '热线监控大屏', connecting: '正在连接…', live: '实时', reconnecting: '正在重新连接…',
    sound: '声音', signout: '退出', signin_title: '登录', token: '访问令牌', signin: '登录',
    signin_failed: '令牌无效。', figures_today: '今日', fig_answered: '15 秒内接听',
    fig_abandoned: '放弃呼叫', fig_callbacks: '按时回拨', fig_repeat: '重复来电率',
    open_alerts: '未处理告警', col_level: '级别', col_kind: '告警', col_case: '工单', col_caller: '来电号码',
    col_age: '持续时间', no_alerts: '没有未处理的告警。', overdue_callbacks: '超时未回拨',
    col_department: '部门', col_late: '超时', col_attempts: '回拨次数', no_callbacks: '没有超时未回拨的来电。',
    overdue_orders: '超时工单', no_orders: '没有超时工单。', ack: '确认',
    level: '级', replay_note: '另有 {n} 条较早的未处理告警未显示（见 hotline.open_alerts）。',
    none_dept: '（无部门）', order: '工单', lang_other: 'English',
    figures_stale: '今日数据暂不显示：统计所用的时区与当前配置的不同，需由管理员运行 hotlined --migrate。',
    kinds: {
      callback_overdue: '回拨超时', callback_due_soon: '回拨即将超时', update_overdue: '进展告知超时',
      update_due_soon: '进展告知即将超时', resolution_overdue: '办结超时', resolution_due_soon: '办结即将超时',
      survey_overdue: '回访超时', survey_due_soon: '回访即将超时', repeat_caller: '重复来电',
      dissatisfied: '来电人不满意', transfer_loop: '多次转办',
      redispatch_overdue: '退单未重新派发', redispatch_due_soon: '重新派发即将超时',
      order_sign_overdue: '工单签收超时', order_reply_overdue: '工单办理超时', buck_passing: '工单推诿',
      hotspot: '热点诉求',
    },
  },
};

const state = {
  lang: 'en', session: null, alerts: new Map(), maxId: 0, source: null, board: null,
  boardTimer: null, retryTimer: null, omitted: 0,
};

const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[state.lang][key] || TEXT.en[key] || key;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

/* "1 h 05 min" / "3 min 07 s" / "42 s": readable from afar */
function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const zh = state.lang === 'zh-CN';
  if (h > 0) return zh ? `${h} 小时 ${String(m).padStart(2, '0')} 分` : `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return zh ? `${m} 分 ${String(sec).padStart(2, '0')} 秒` : `${m} min ${String(sec).padStart(2, '0')} s`;
  return zh ? `${sec} 秒` : `${sec} s`;
}

const pct = (a, b) => (b > 0 ? `${Math.round((100 * a) / b)} %` : '–');

/* ------------------------------------------------------------ language */

function setLang(lang) {
  state.lang = TEXT[lang] ? lang : 'en';
  document.documentElement.lang = state.lang;
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  const other = state.lang === 'en' ? 'zh-CN' : 'en';
  $('lang').textContent = t('lang_other');
  $('lang').lang = other;
  document.title = t('title');
  setConn($('conn').dataset.state);
  renderAlerts();
  renderBoard();
  if (state.session) $('who').textContent = state.session.name;
}

/* -------------------------------------------------------------- session */

async function api(path, opts = {}) {
  const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
  if (opts.method && opts.method !== 'GET' && state.session && state.session.csrf)
    headers['X-CSRF-Token'] = state.session.csrf;
  const r = await fetch(path, Object.assign({ credentials: 'same-origin', cache: 'no-store' }, opts, { headers }));
  if (r.status === 401) {
    showSignin();
    throw new Error('unauthorized');
  }
  return r;
}

function showSignin() {
  stopStream();
  state.session = null;
  $('board').hidden = true;
  $('signout').hidden = true;
  $('signin').hidden = false;
  $('token').focus();
}

async function signin(ev) {
  ev.preventDefault();
  const r = await fetch('/v1/session', {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: $('token').value }),
  });
  if (!r.ok) {
    $('signin-error').hidden = false;
    return;
  }
  $('signin-error').hidden = true;
  $('token').value = '';
  started(await r.json());
}

async function signout() {
  await fetch('/v1/session', { method: 'DELETE', credentials: 'same-origin' });
  showSignin();
}

function started(session) {
  state.session = session;
  $('signin').hidden = true;
  $('board').hidden = false;
  $('signout').hidden = !session.auth;
  $('who').textContent = session.name;
  startStream();
  loadBoard();
  clearInterval(state.boardTimer);
  state.boardTimer = setInterval(() => { refreshSession(); loadBoard(); }, 15000);
}

/* Asked with every board refresh: the daemon renews a session in the second
 * half of its 12 hours (a wall screen runs for days) and answers the CSRF
 * token of the renewed cookie, which the next acknowledgement needs. */
async function refreshSession() {
  try {
    const r = await api('/v1/session');
    const s = r.ok ? await r.json() : null;
    if (s && s.signed_in) state.session = s;
    else if (s) showSignin();
  } catch (e) { /* unauthorized: the form is shown; down: the next tick tries again */ }
}

async function start() {
  try {
    const r = await api('/v1/session');
    /* a session cookie is checked in the database (signed out?): while it
     * is unreachable the answer is 503, and the page tries again */
    if (!r.ok) {
      setTimeout(start, 2000);
      return;
    }
    const s = await r.json();
    if (s && s.signed_in) started(s);
    else if (s) showSignin();
  } catch (e) {
    if (e.message !== 'unauthorized') setTimeout(start, 2000); /* daemon not up yet */
  }
}

/* --------------------------------------------------------- the stream */

function setConn(s) {
  const c = $('conn');
  c.dataset.state = s;
  c.textContent = t(s);
}

function stopStream() {
  if (state.source) state.source.close();
  state.source = null;
  clearTimeout(state.retryTimer);
}

function startStream() {
  stopStream();
  setConn(state.alerts.size || state.maxId ? 'reconnecting' : 'connecting');
  /* always the whole replay of the open alerts, never ?since=: an older
   * alert that escalated while we were cut off is not after the highest id
   * we saw, so a resumed stream would never send its new level */
  const src = new EventSource('/v1/alerts/stream');
  state.source = src;
  /* the note of alerts left out is this replay's (its `replay` event comes
   * first); a replay that leaves none out sends none */
  state.omitted = 0;
  src.onopen = () => {
    setConn('live');
    renderSoon();
  };
  src.onmessage = (m) => {
    let a;
    try { a = JSON.parse(m.data); } catch (e) { return; }
    upsertAlert(a);
  };
  src.addEventListener('ack', (m) => {
    const a = JSON.parse(m.data);
    if (state.alerts.delete(a.id)) renderSoon();
  });
  src.addEventListener('replay', (m) => {
    state.omitted = JSON.parse(m.data).omitted || 0;
    renderSoon();
  });
  src.onerror = () => {
    /* Reconnect ourselves, always: EventSource's own retry would resume
     * after Last-Event-ID (missing escalations made meanwhile, as above), and
     * after a daemon restart or a 503 it gives up (CLOSED) anyway. */
    setConn('reconnecting');
    if (state.source === src) {
      src.close();
      clearTimeout(state.retryTimer);
      state.retryTimer = setTimeout(async () => {
        try {
          const r = await api('/v1/session');
          const s = r.ok ? await r.json() : null;
          if (s && s.signed_in) {
            state.session = s;
            startStream();
            loadBoard();
            return;
          }
          if (s) {
            showSignin();
            return;
          }
        } catch (e) {
          if (e.message === 'unauthorized') return;
        }
        src.onerror();
      }, 2000);
    }
  };
}

function upsertAlert(a) {
  const old = state.alerts.get(a.id);
  state.alerts.set(a.id, a);
  if (a.id > state.maxId) state.maxId = a.id;
  const isNews = !old || a.level > old.level;
  renderSoon(isNews ? a.id : 0);
  if (isNews && state.live) cue();
}

/* The list is rebuilt once per burst, not once per alert: a replay of 1,000
 * open alerts (or a burst committed together) rebuilt every row for each
 * one, n^2 rows, and froze the page for tens of seconds. */
const pending = { timer: 0, fresh: new Set() };
function renderSoon(freshId) {
  if (freshId) pending.fresh.add(freshId);
  if (pending.timer) return;
  pending.timer = setTimeout(() => {
    const fresh = pending.fresh;
    pending.timer = 0;
    pending.fresh = new Set();
    renderAlerts(fresh);
  }, 50);
}

let audio = null;
function cue() {
  document.body.classList.remove('cue');
  void document.body.offsetWidth; /* restart the animation */
  document.body.classList.add('cue');
  if (!$('sound').checked) return;
  try {
    audio = audio || new AudioContext();
    const o = audio.createOscillator(), g = audio.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.2, audio.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.6);
  } catch (e) { /* no audio device: the visual cue stays */ }
}

/* ------------------------------------------------------------ rendering */

function sortedAlerts() {
  return [...state.alerts.values()].sort((x, y) => y.level - x.level || (x.raised_at < y.raised_at ? -1 : 1) || x.id - y.id);
}

function renderAlerts(fresh) {
  const body = $('alerts-body');
  const rows = [];
  const byLevel = new Map();
  const canAck = state.session && (state.session.role === 'supervisor');
  for (const a of sortedAlerts()) {
    byLevel.set(a.level, (byLevel.get(a.level) || 0) + 1);
    /* a work-order alert names its order and department (CONTRACT 6) */
    const kind = [(TEXT[state.lang].kinds || {})[a.kind] || a.kind, a.order_id, a.department]
      .filter(Boolean).join(' · ');
    const tr = el('tr', { 'data-alert-id': String(a.id), class: fresh && fresh.has(a.id) ? 'fresh' : '' },
      el('td', {}, el('span', { class: `level level-${Math.min(a.level, 5)}` }, `${a.level}`)),
      el('td', {}, kind),
      el('td', {}, a.case_id ? `#${a.case_id}` : '–'),
      el('td', {}, a.caller || '–'),
      el('td', { class: 'age', 'data-since': a.raised_at }, duration(Date.now() - Date.parse(a.raised_at))),
      el('td', {}, canAck ? el('button', { type: 'button', class: 'ack', 'data-alert-id': String(a.id) }, t('ack')) : ''));
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  $('alerts-count').textContent = String(state.alerts.size);
  $('alerts-empty').hidden = state.alerts.size > 0;
  const levels = [...byLevel.entries()].sort((x, y) => y[0] - x[0]).map(([lv, n]) =>
    el('span', { class: `level level-${Math.min(lv, 5)}` }, `${t('level')} ${lv}: ${n}`));
  $('levels').replaceChildren(...levels);
  const note = $('replay-note');
  note.hidden = !state.omitted;
  note.textContent = t('replay_note').replace('{n}', String(state.omitted));
}

function renderBoard() {
  const b = state.board;
  if (!b) return;
  /* figures_stale (sql/083): the daemon will not recount them; say so
   * rather than show zeros a supervisor would take for a quiet day */
  const stale = !!(b.figures && b.figures.error);
  $('figures-note').hidden = !stale;
  const f = (b.figures && b.figures.figures) || {};
  $('fig-answered').textContent = stale ? '–' : pct(f.answered_within_15s || 0, f.calls_offered || 0);
  $('fig-abandoned').textContent = stale ? '–' : String(f.calls_abandoned || 0);
  $('fig-callbacks').textContent = stale ? '–' : pct(f.callbacks_in_time || 0, f.callbacks_owed || 0);
  $('fig-repeat').textContent = !stale && f.repeat_call_rate != null ? `${Math.round(f.repeat_call_rate * 100)} %` : '–';

  const cbs = b.overdue_callbacks || [];
  $('callbacks-body').replaceChildren(...cbs.map((c) => el('tr', { 'data-case-id': String(c.case_id) },
    el('td', {}, `#${c.case_id}`), el('td', {}, c.caller || '–'), el('td', {}, c.department || '–'),
    el('td', { class: 'late', 'data-since': c.due_at }, duration(Date.now() - Date.parse(c.due_at))),
    el('td', {}, String(c.attempts || 0)))));
  $('callbacks-count').textContent = String(cbs.length);
  $('callbacks-empty').hidden = cbs.length > 0;

  /* overdue_orders: [{department, orders: [{order_id, case_id, overdue, due_at, late_s, urge_level}]}] */
  const depts = b.overdue_orders || [];
  let n = 0;
  $('orders-body').replaceChildren(...depts.map((d) => {
    n += (d.orders || []).length;
    return el('div', { class: 'dept' }, el('h3', {}, d.department || t('none_dept')),
      ...(d.orders || []).map((o) => el('div', {}, `${t('order')} ${o.order_id} · #${o.case_id} · `,
        el('span', { class: 'late', 'data-since': o.due_at }, duration(Date.now() - Date.parse(o.due_at))))));
  }));
  $('orders-count').textContent = String(n);
  $('orders-empty').hidden = n > 0;
}

async function loadBoard() {
  try {
    const r = await api('/v1/board');
    if (r.ok) {
      state.board = await r.json();
      /* alerts acknowledged where no stream told us (psql): drop them */
      const ids = state.board.open_alert_ids;
      if (ids && ids.length === state.board.open_alerts) {
        const open = new Set(ids);
        let gone = false;
        for (const id of [...state.alerts.keys()])
          if (!open.has(id) && id <= (state.board.max_alert_id || 0)) gone = state.alerts.delete(id) || gone;
        if (gone) renderAlerts();
      }
      renderBoard();
    }
  } catch (e) { /* the next tick tries again */ }
}

function tick() {
  const now = Date.now();
  $('clock').textContent = new Date(now).toLocaleTimeString(state.lang, { hour12: false });
  for (const e of document.querySelectorAll('[data-since]'))
    e.textContent = duration(now - Date.parse(e.dataset.since));
}

async function ack(id) {
  try {
    let r = await api(`/v1/alerts/${id}/ack`, { method: 'POST' });
    if (r.status === 403 && state.session && state.session.auth) {
      /* the cookie was just renewed (a new CSRF token): once more with it */
      await refreshSession();
      r = await api(`/v1/alerts/${id}/ack`, { method: 'POST' });
    }
    if (r.ok || r.status === 404) {
      state.alerts.delete(id);
      renderAlerts();
      loadBoard();
    }
  } catch (e) { /* signed out: the form is shown */ }
}

document.addEventListener('DOMContentLoaded', () => {
  const saved = localStorage.getItem('hotlined.lang');
  setLang(saved || document.documentElement.lang || 'en');
  $('lang').addEventListener('click', () => {
    setLang(state.lang === 'en' ? 'zh-CN' : 'en');
    localStorage.setItem('hotlined.lang', state.lang);
  });
  $('sound').checked = localStorage.getItem('hotlined.sound') === '1';
  $('sound').addEventListener('change', () => localStorage.setItem('hotlined.sound', $('sound').checked ? '1' : '0'));
  $('signin').addEventListener('submit', signin);
  $('signout').addEventListener('click', signout);
  $('alerts-body').addEventListener('click', (ev) => {
    const b = ev.target.closest('button.ack');
    if (b) ack(Number(b.dataset.alertId));
  });
  /* cues only for alerts that arrive after the first replay settled */
  setTimeout(() => { state.live = true; }, 1500);
  setInterval(tick, 1000);
  tick();
  start();
});
