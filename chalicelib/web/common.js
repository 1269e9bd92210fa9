/* Yunqiao pages: what the home page, the invitation page and the members' workspace share.
 * Plain ES2017, no framework, no build step. Every piece of data reaches the page through textContent or an
 * attribute set by h(): nothing from the API is ever parsed as HTML. */
(function () {
  'use strict';
  var THREAD_PAGE = 20;  // messages per page of a thread

  /* The API lives beside the pages: this script's own path, less its place among the assets, is the prefix (a stage
   * name on API Gateway), whatever page loaded it. */
  var base = new URL(document.currentScript.src).pathname.replace(/\/mobile\/wechat\/external\/assets\/[^/]*$/, '');
  var query = new URLSearchParams(location.search);

  /* h('p', {className: 'x', onclick: f}, 'text', node, [more]) builds an element. */
  function h(tag, props) {
    var el = document.createElement(tag);
    var key;
    for (key in props || {}) {
      var value = props[key];
      if (value === undefined || value === null || value === false) continue;
      if (key.slice(0, 2) === 'on') el.addEventListener(key.slice(2), value);
      else if (key === 'className') el.className = value;
      else if (key === 'text') el.textContent = String(value);
      else if (key === 'value') el.value = value;
      else el.setAttribute(key, value === true ? '' : String(value));
    }
    append(el, Array.prototype.slice.call(arguments, 2));
    return el;
  }

  function append(el, children) {
    children.forEach(function (child) {
      if (child === undefined || child === null || child === false) return;
      if (Array.isArray(child)) append(el, child);
      else el.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    });
  }

  /* Replace what the page shows and bring it to the top. */
  function show() {
    var root = document.getElementById('app');
    root.textContent = '';
    append(root, Array.prototype.slice.call(arguments));
    root.removeAttribute('aria-busy');
    window.scrollTo(0, 0);
  }

  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }

  /* One API call. Resolves with the JSON body (a Blob with `binary: true`); rejects with an ApiError (status 0 and
   * code 'network' when the request never got an answer). Cookies stay out of it, except for `options.oauth`: the
   * calls that begin and end an OAuth round trip, whose state cookie (HttpOnly, same origin) binds the trip to this
   * browser. */
  function api(method, path, options) {
    options = options || {};
    var headers = { Accept: options.binary ? 'image/png' : 'application/json' };
    if (options.token) headers.Authorization = 'Bearer ' + options.token;
    var init = { method: method, headers: headers, credentials: options.oauth ? 'same-origin' : 'omit', cache: 'no-store' };
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    var url = base + path;
    if (options.query) {
      var params = new URLSearchParams();
      Object.keys(options.query).forEach(function (name) {
        var value = options.query[name];
        if (value !== undefined && value !== null && value !== '') params.set(name, value);
      });
      if (params.toString()) url += '?' + params.toString();
    }
    return fetch(url, init).then(function (response) {
      if (response.status === 204) return {};
      if (response.ok && options.binary) return response.blob();
      return response.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : {}; } catch (e) { body = null; }
        if (response.ok && body) return body;
        var error = (body && body.error) || {};
        throw new ApiError(response.status, error.code || 'http_' + response.status,
                           error.message || '服务返回了无法识别的内容');
      });
    }, function () {
      throw new ApiError(0, 'network', '');
    });
  }

  var MESSAGES = {
    network: '网络连接失败，请检查网络后重试。',
    tenant_not_found: '未找到这个团队：链接中的团队识别码无效，或该团队已停用。请从对接人的企业微信名片重新打开。',
    invalid_credentials: '账号或密码不正确。',
    too_many_attempts: '尝试次数过多，请稍后再试。',
    account_disabled: '您的账号已停用，请联系对接人。',
    invalid_session: '登录已过期，请重新登录。',
    item_not_found: '该内容已不再共享给您。',
    app_closed: '这个应用暂未向您开放。',
    no_contact: '没有找到与您的微信身份对应的外部联系人，请使用账号密码登录。',
    oauth_failed: '微信授权未完成或已过期，请使用账号密码登录。',
    invalid_state: '登录链接无效或已过期（它不是从这个浏览器发起的），请重新登录。',
    password_change_required: '请先修改初始密码。',
    invitation_used: '这个邀请已经被接受过了。',
    invitation_expired: '这个邀请已过期，请联系邀请人重新发送。',
    invitation_invalid: '邀请链接无效，请确认链接完整。',
    invitation_revoked: '邀请人已撤回这个邀请。',
    invitation_decided: '这个邀请正在处理或已处理过了。',
    activation_invalid: '激活链接无效，请联系对接人重新发送。',
    activation_expired: '激活链接已过期，请联系对接人重新发送。',
    activation_used: '这个激活链接已经用过了，请直接用账号和密码登录。',
    invalid_current_password: '当前密码不正确。',
    password_unchanged: '新密码不能与当前密码相同。',
    weak_password: '密码不符合要求：至少 10 位，包含大写字母、小写字母、数字、符号中的至少三种，不能包含账号名，也不能是常见密码。',
    invalid_text: '评论不能为空，最多 2000 字。',
    /* the members' workspace */
    member_session_required: '请使用企业微信登录。',
    not_a_member: '只有本团队的企业微信成员可以登录外部互联。',
    invalid_code: '企业微信授权未完成，请重新登录。',
    invalid_redirect: '登录地址无效，请从企业微信重新打开。',
    contact_not_found: '没有找到这个外部联系人：可能已被删除，或您无权查看。',
    edit_not_allowed: '只有添加人和外部互联维护人可以修改基本信息。',
    sharing_not_allowed: '只有添加人、有编辑权限的共享成员和维护人可以修改可见成员和共享。',
    delete_not_allowed: '只有添加人和外部互联维护人可以删除这个联系人。',
    audit_not_allowed: '只有添加人和维护人可以查看动态。',
    contact_synced: '这个联系人来自企业微信客户，会随同步保留，不能在这里删除。',
    field_synced: '姓名、职位和所属组织来自企业微信，会随同步更新，不能在这里修改。',
    contact_changed: '联系人刚被其他人修改过，请刷新后再试。',
    contact_busy: '联系人正在被其他人修改，请稍后再试。',
    member_not_found: '没有这个成员，请填写本团队成员的企业微信账号（userid）。',
    invalid_share_list: '共享设置无效：权限只能是「可编辑」或「仅查看」。',
    invalid_security_level: '安全级别应为 -999 到 0 之间的整数。',
    invalid_name: '请填写姓名（最多 64 字）。',
    invalid_mobile: '手机号格式不正确。',
    invalid_email: '邮箱格式不正确。',
    organisation_not_found: '所选组织不存在或已被删除。',
    application_pending: '这个联系人已有开通申请在审批中。',
    account_exists: '这个联系人已经有外部账号了。',
    application_not_found: '没有找到这个开通申请：可能您无权查看。',
    application_not_pending: '这个申请已经被处理了。',
    own_application: '不能审批自己提交的申请，请由其他审批人处理。',
    not_an_approver: '只有外部互联维护人和该维度的维护人可以审批。',
    account_opening_failed: '申请已通过，但账号暂时未能开通，请再次点击「通过」重试。',
    forbidden: '您没有权限查看这些内容。',
    invalid_remark: '备注最多 500 字。',
    invalid_reason: '请填写驳回原因（最多 500 字）。',
    search_terms_required: '请填写组织名称，并填写姓名、手机号、邮箱中的一项。',
    org_member_not_found: '没有找到：请确认组织名称和对方的姓名、手机号或邮箱完全一致。',
    invalid_organisation: '组织名称太长了。',
    rate_limited: '搜索太频繁了，请稍后再试。',
    candidate_expired: '搜索结果已过期，请重新搜索。',
    invalid_candidate: '搜索结果无效，请重新搜索。',
    invitation_pending: '已经邀请过对方了，请等待对方回复。',
    already_connected: '你们已经互为外部联系人了。',
    invitation_not_found: '没有找到这个邀请。',
    invalid_note: '附言最多 200 字。',
    organisation_unavailable: '对方组织暂时无法接收邀请。',
    wecom_unavailable: '企业微信暂时无法访问，请稍后再试。',
    wechat_not_configured: '团队还没有接入微信公众号，请联系管理员。',
    wechat_bound_elsewhere: '这个微信已绑定团队的另一位成员。',
    unionid_unavailable: '微信未返回 unionid（公众号未绑定开放平台），请联系管理员。'
  };

  /* What to tell a person about a failed call: our own words for the codes we know, the API's message otherwise. */
  function describe(error) {
    if (!(error instanceof ApiError)) return '页面出错了，请刷新后重试。';
    if (MESSAGES[error.code]) return MESSAGES[error.code];
    if (error.status >= 500) return '服务暂时不可用（' + error.status + '），请稍后重试。';
    if (error.status === 429) return '操作太频繁，请稍后再试。';
    return error.message || '请求未成功（' + error.status + '）。';
  }

  function loading(label) {
    return h('div', { className: 'state loading', role: 'status', 'data-state': 'loading' },
      h('span', { className: 'spinner', 'aria-hidden': 'true' }), label || '加载中…');
  }

  /* An error or empty state: a title, what happened, and optionally one action. */
  function notice(kind, title, detail, action) {
    return h('div', { className: 'state ' + kind, role: kind === 'error' ? 'alert' : 'status', 'data-state': kind },
      h('p', { className: 'state-title', text: title }),
      detail ? h('p', { className: 'state-detail', text: detail }) : null,
      action ? h('button', { type: 'button', className: 'btn ghost', onclick: action.run, text: action.label }) : null);
  }

  /* A labelled input. */
  function field(label, input, hint) {
    return h('label', { className: 'field' },
      h('span', { className: 'field-label', text: label }), input,
      hint ? h('span', { className: 'field-hint', text: hint }) : null);
  }

  /* Wire a form: disable it while `submit` runs, show its error in the form's message line. `submit` returns a
   * promise; a rejected ApiError is described, and `onError` may handle it instead (return true). */
  function bindForm(form, submit, onError) {
    var message = h('p', { className: 'form-message', role: 'alert' });
    form.appendChild(message);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var buttons = form.querySelectorAll('button');
      message.textContent = '';
      message.className = 'form-message';
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
      Promise.resolve().then(submit).catch(function (error) {
        if (onError && onError(error)) return;
        message.textContent = describe(error);
        message.className = 'form-message error';
      }).then(function () {
        Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      });
    });
    return function say(text) {
      message.textContent = text;
      message.className = 'form-message ok';
    };
  }

  /* bindForm for a page with sentences of its own: `messages` (code → sentence) come before the shared ones, and an
   * error the page has already shown (`error.handled`) is left alone. */
  function bindFormWith(messages, form, submit) {
    return bindForm(form, submit, function (error) {
      if (error.handled) return true;
      var line = form.querySelector('.form-message');
      line.textContent = messages[error && error.code] || describe(error);
      line.className = 'form-message error';
      return true;
    });
  }

  /* A thread of messages between a contact and a member (the home's #/m/<userId>, the workspace's
   * /directory/messages/<contactId>), oldest at the bottom, with the page's own markup in `view` (list, empty,
   * earlier, form, text, sentences): older pages load above on `earlier`, the form sends, and `own` is the author kind
   * shown as 我. Answers the first page's body for the page to show the rest. */
  function messageThread(call, path, own, view) {
    var cursor = null;

    function node(message) {
      var mine = message.author && message.author.kind === own;
      var meta = [mine ? '我' : message.author && message.author.name, when(message.createdAt)].filter(Boolean).join(' · ');
      return h('li', { className: 'msg' + (mine ? ' mine' : ''), 'data-message': message.messageId },
        h('p', { className: 'msg-meta', text: meta }), h('p', { className: 'msg-text', text: message.text }));
    }

    /* A page comes oldest first: each goes above what is shown (the first page: into the empty list). */
    function load(query) {
      return call('GET', path, { query: query }).then(function (body) {
        var first = view.list.firstChild;
        (body.messages || []).forEach(function (message) { view.list.insertBefore(node(message), first); });
        cursor = body.nextCursor || null;
        view.earlier.hidden = !cursor;
        view.empty.hidden = view.list.children.length > 0;
        return body;
      });
    }

    view.earlier.addEventListener('click', function () {
      view.earlier.disabled = true;
      load({ cursor: cursor, limit: THREAD_PAGE }).then(function () { view.earlier.disabled = false; }, function (error) {
        view.earlier.disabled = false;
        if (!error.handled) view.earlier.textContent = describe(error) + ' 点此重试';
      });
    });
    bindFormWith(view.sentences, view.form, function () {
      var value = view.text.value.trim();
      if (!value) throw new ApiError(400, 'invalid_text', '');
      return call('POST', path, { body: { text: value } }).then(function (message) {
        var added = view.list.appendChild(node(message));
        view.empty.hidden = true;
        view.text.value = '';
        if (added.scrollIntoView) added.scrollIntoView({ block: 'nearest' });
      });
    });
    return load({ limit: THREAD_PAGE });
  }

  /* "2026-03-05 14:07" from epoch seconds, epoch milliseconds or an ISO string. */
  function when(value) {
    if (value === undefined || value === null || value === '') return '';
    var date = typeof value === 'number' ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
    if (isNaN(date.getTime())) return String(value);
    function two(n) { return n < 10 ? '0' + n : String(n); }
    return date.getFullYear() + '-' + two(date.getMonth() + 1) + '-' + two(date.getDate()) + ' ' +
      two(date.getHours()) + ':' + two(date.getMinutes());
  }

  /* Only web links may become hrefs: never javascript: or data: from the API. */
  function safeUrl(url) {
    return typeof url === 'string' && /^https?:\/\//i.test(url) ? url : null;
  }

  /* A member's session, the same in the workspace, the console and the chat toolbar (one per tenant, in
   * sessionStorage): WeCom OAuth inside WeCom's client, QR login elsewhere, each through the API's per-visit state.
   * `expired(note)` is the page's way back to its sign-in when a call finds the session dead. */
  function memberSession(tenantKey, expired) {
    var keys = { token: 'yq.member.' + tenantKey, me: 'yq.member.me.' + tenantKey, tried: 'yq.member.oauth.' + tenantKey };
    var inWeCom = /wxwork/i.test(navigator.userAgent || '');

    /* Where WeCom sends the member back: this very address without an old code, so a card's link survives sign-in. */
    function returnAddress() {
      var params = new URLSearchParams(location.search);
      params.delete('code');
      params.delete('state');
      return location.origin + location.pathname + '?' + params.toString();
    }

    function remember(member) { sessionStorage.setItem(keys.me, JSON.stringify(member || {})); }

    function forget() {
      sessionStorage.removeItem(keys.token);
      sessionStorage.removeItem(keys.me);
    }

    return {
      inWeCom: inWeCom,
      returnAddress: returnAddress,
      remember: remember,
      token: function () { return sessionStorage.getItem(keys.token); },
      me: function () {
        try { return JSON.parse(sessionStorage.getItem(keys.me) || '{}') || {}; } catch (e) { return {}; }
      },
      forget: forget,
      /* A call with the session; a dead one goes back to sign-in (the page stays where it is, to come back to). */
      call: function (method, path, options) {
        options = options || {};
        options.token = sessionStorage.getItem(keys.token);
        return api(method, path, options).catch(function (error) {
          if (error.status === 401) {
            forget();
            expired(describe(error));
            error.handled = true;
          }
          throw error;
        });
      },
      /* Inside WeCom a first visit signs in at once; after a refusal, or once tried, the page asks first. */
      signsInAtOnce: function (note) { return inWeCom && !note && !sessionStorage.getItem(keys.tried); },
      startLogin: function () {
        sessionStorage.setItem(keys.tried, '1');
        var query = { tenantKey: tenantKey, redirectUri: returnAddress(), login: inWeCom ? 'oauth' : 'qr' };
        return api('GET', '/api/auth/wecom/authorize-url', { query: query, oauth: true }).then(function (answer) {
          var target = safeUrl(answer.url);
          if (!target) throw new ApiError(502, 'bad_answer', '登录地址无效');
          location.assign(target);
        });
      },
      /* Back from WeCom with ?code=&state=: the code is exchanged once (with the state WeCom carried back), and
       * dropped from the address. */
      exchange: function (code, state) {
        history.replaceState(null, '', returnAddress().slice(location.origin.length) + location.hash);
        var body = { tenantKey: tenantKey, code: code, state: state };
        return api('POST', '/api/auth/wecom/session', { body: body, oauth: true }).then(function (session) {
          sessionStorage.setItem(keys.token, session.token);
          sessionStorage.removeItem(keys.tried);
          remember(session.member);
          return session;
        });
      }
    };
  }

  window.YQ = {
    h: h, show: show, api: api, ApiError: ApiError, describe: describe, loading: loading, notice: notice,
    field: field, bindForm: bindForm, bindFormWith: bindFormWith, when: when, safeUrl: safeUrl, query: query, base: base,
    memberSession: memberSession, messageThread: messageThread
  };
})();
