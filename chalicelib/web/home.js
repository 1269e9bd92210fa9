/* 与我协作: the external contact's home page. Signs the visitor in (WeChat / WeCom OAuth, account + password,
 * activation link), then shows what the company shares with them, grouped in sections, with item details,
 * comments and form filling. Routes live in the fragment: #/ home, #/s/<section> a section's list,
 * #/i/<kind>/<itemId> one item; #activate=<token> is the activation link. The page's own scripts (home-settings.js:
 * the settings, #/settings and #/forgot; home-contacts.js: 我的对接人 and the threads, #/m/<userId>), loaded after
 * this one, add their views through window.YQH. */
(function () {
  'use strict';
  var Y = window.YQ;
  var h = Y.h;
  var tenantKey = (Y.query.get('tenantKey') || '').trim();
  var keys = { token: 'yq.token.' + tenantKey, tenant: 'yq.tenant.' + tenantKey, oauth: 'yq.oauth.' + tenantKey };
  var userAgent = navigator.userAgent || '';
  var inWeCom = /wxwork/i.test(userAgent);
  var inWeChat = !inWeCom && /MicroMessenger/i.test(userAgent);
  var PAGE = 20;
  var LATEST = 3;

  /* The API's sections (GET /api/external/home answers them too, with counts): key, label, kinds. */
  var SECTIONS = [
    { key: 'tasks', label: '项目任务', kinds: ['project', 'task'] },
    { key: 'approvals', label: '审批', kinds: ['approval'] },
    { key: 'forms', label: '表单', kinds: ['form', 'form_record'] },
    { key: 'documents', label: '文档', kinds: ['document'] },
    { key: 'schedules', label: '日程', kinds: ['schedule'] },
    { key: 'crm', label: 'CRM', kinds: ['crm_record'] }
  ];
  var KINDS = {
    project: '项目', task: '任务', approval: '审批', form: '表单', form_record: '表单记录', document: '文档',
    schedule: '日程', crm_record: 'CRM'
  };
  /* Set on a password sign-in that must change its password next: the form then needs no current password. */
  var justTyped = null;

  function token() { return sessionStorage.getItem(keys.token); }

  function signedIn(session) {
    sessionStorage.setItem(keys.token, session.token);
    sessionStorage.removeItem(keys.oauth);
  }

  function forget() { sessionStorage.removeItem(keys.token); }

  function tenantName() { return sessionStorage.getItem(keys.tenant) || ''; }

  /* A call with the session; a dead session (or a disabled account) goes back to sign-in, a forced password change
   * to its form. */
  function call(method, path, options) {
    options = options || {};
    options.token = token();
    return Y.api(method, path, options).catch(function (error) {
      if (error.status === 401 || error.code === 'account_disabled') {
        forget();
        startSignIn(Y.describe(error));
        error.handled = true;
      } else if (error.code === 'password_change_required') {
        changePasswordView();
        error.handled = true;
      }
      throw error;
    });
  }

  function header(title, back) {
    return h('header', { className: 'bar' },
      back ? h('a', { className: 'bar-back', href: back, 'aria-label': '返回' }, '‹') : null,
      h('h1', { className: 'bar-title', text: title }));
  }

  /* A failure where a page should be: what happened and a way out. */
  function failed(error, retry) {
    if (error && error.handled) return;
    var title = error && error.code === 'network' ? '网络不可用' : '加载失败';
    Y.show(header(tenantName() || '与我协作'), Y.notice('error', title, Y.describe(error), retry && { label: '重试', run: retry }));
  }

  function fatal(title, detail) {
    Y.show(header('与我协作'), Y.notice('error', title, detail));
  }

  /* ---- signing in ---- */

  function startSignIn(note) {
    Y.show(header(tenantName() || '与我协作'), Y.loading());
    Y.api('GET', '/api/external/login-options', { query: { tenantKey: tenantKey }, oauth: true }).then(function (options) {
      if (options.tenant && options.tenant.name) sessionStorage.setItem(keys.tenant, options.tenant.name);
      var target = Y.safeUrl(inWeCom ? options.wecomAuthorizeUrl : inWeChat ? options.wechatAuthorizeUrl : null);
      if (target && !note && !sessionStorage.getItem(keys.oauth)) {
        sessionStorage.setItem(keys.oauth, '1');
        location.replace(target);
        return;
      }
      loginView(note);
    }, function (error) {
      if (error.code === 'tenant_not_found') fatal('无法打开', Y.describe(error));
      else if (error.code === 'network') failed(error, function () { startSignIn(note); });
      else loginView(note);
    });
  }

  function loginView(note) {
    var account = h('input', { name: 'account', autocomplete: 'username', required: true, autocapitalize: 'off', spellcheck: 'false' });
    var password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    var form = h('form', { className: 'card form', id: 'login-form', novalidate: true },
      h('h2', { text: '登录' }),
      note ? h('p', { className: 'form-note', role: 'status', text: note }) : null,
      Y.field('账号', account), Y.field('密码', password),
      h('button', { type: 'submit', className: 'btn primary', text: '登录' }));
    Y.bindForm(form, function () {
      if (!account.value.trim() || !password.value) throw new Y.ApiError(400, 'missing', '请输入账号和密码。');
      return Y.api('POST', '/api/external/session/password', {
        body: { tenantKey: tenantKey, account: account.value.trim(), password: password.value }
      }).then(function (session) {
        signedIn(session);
        if (session.mustChangePassword) {
          justTyped = password.value;
          changePasswordView();
        } else {
          go('#/');
        }
      });
    });
    Y.show(header(tenantName() || '与我协作'),
      h('p', { className: 'lead', text: '登录后查看对接人共享给您的项目、审批、表单、文档、日程和客户资料。' }), form,
      H.loginExtras ? H.loginExtras() : null);
  }

  function passwordInputs(form, label) {
    var fresh = h('input', { name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true });
    var again = h('input', { name: 'confirmPassword', type: 'password', autocomplete: 'new-password', required: true });
    form.appendChild(Y.field(label, fresh, '至少 10 位，包含大写字母、小写字母、数字、符号中的至少三种'));
    form.appendChild(Y.field('再次输入', again));
    return function value() {
      if (!fresh.value) throw new Y.ApiError(400, 'missing', '请输入新密码。');
      if (fresh.value !== again.value) throw new Y.ApiError(400, 'mismatch', '两次输入的密码不一致。');
      return fresh.value;
    };
  }

  /* #activate=<token>: the contact sets a password and is signed in. */
  function activationView(activation) {
    var form = h('form', { className: 'card form', id: 'activate-form', novalidate: true },
      h('h2', { text: '激活账号' }), h('p', { className: 'form-note', text: '请设置登录密码，设置后即可查看共享给您的内容。' }));
    var password = passwordInputs(form, '设置密码');
    form.appendChild(h('button', { type: 'submit', className: 'btn primary', text: '激活并登录' }));
    Y.bindForm(form, function () {
      return Y.api('POST', '/api/external/activation', {
        body: { tenantKey: tenantKey, token: activation, password: password() }
      }).then(function (session) {
        signedIn(session);
        go('#/');
      });
    });
    Y.show(header(tenantName() || '与我协作'), form,
      h('button', { type: 'button', className: 'btn link', onclick: function () { startSignIn(); }, text: '已设置过密码？直接登录' }));
  }

  /* An initial password must be replaced before anything else (the API refuses other routes until then). */
  function changePasswordView() {
    var form = h('form', { className: 'card form', id: 'password-form', novalidate: true },
      h('h2', { text: '请修改初始密码' }), h('p', { className: 'form-note', text: '为了账号安全，首次登录需要设置新密码。' }));
    var current = null;
    if (justTyped === null) {
      current = h('input', { name: 'currentPassword', type: 'password', autocomplete: 'current-password', required: true });
      form.appendChild(Y.field('当前密码', current));
    }
    var password = passwordInputs(form, '新密码');
    form.appendChild(h('button', { type: 'submit', className: 'btn primary', text: '保存新密码' }));
    Y.bindForm(form, function () {
      var body = { currentPassword: current ? current.value : justTyped, newPassword: password() };
      return call('POST', '/api/external/me/password', { body: body }).then(function () {
        justTyped = null;
        go('#/', true);
      });
    });
    Y.show(header(tenantName() || '与我协作'), form,
      h('button', { type: 'button', className: 'btn link', onclick: signOut, text: '退出登录' }));
  }

  /* Back from WeChat / WeCom OAuth with ?code=&state=: exchange the code once, then drop it from the address. The
   * state (wechat… | wecom…, issued by login-options with an HttpOnly cookie) goes with the code: the API refuses a
   * state this browser did not begin (403 invalid_state), so a link carrying someone else's code signs nobody in. */
  function exchangeCode(code, state) {
    var via = /^wecom/i.test(state) ? 'wecom' : /^wechat/i.test(state) ? 'wechat' : inWeCom ? 'wecom' : 'wechat';
    var params = new URLSearchParams(location.search);
    params.delete('code');
    params.delete('state');
    history.replaceState(null, '', location.pathname + '?' + params.toString() + location.hash);
    Y.show(header(tenantName() || '与我协作'), Y.loading('正在登录…'));
    Y.api('POST', '/api/external/session/' + via, { body: { tenantKey: tenantKey, code: code, state: state }, oauth: true }).then(function (session) {
      signedIn(session);
      route();
    }, function (error) {
      if (error.code === 'tenant_not_found') fatal('无法打开', Y.describe(error));
      else if (error.code === 'network') failed(error, function () { startSignIn(); });
      else startSignIn(Y.describe(error));
    });
  }

  function signOut() {
    var current = token();
    forget();
    justTyped = null;
    var done = function () { startSignIn('您已退出登录。'); };
    if (!current) return done();
    Y.api('DELETE', '/api/external/session', { token: current }).then(done, done);
  }

  /* ---- items ---- */

  function sectionOf(kind) {
    return SECTIONS.filter(function (s) { return s.kinds.indexOf(kind) >= 0; })[0];
  }

  function itemHref(item) {
    return '#/i/' + encodeURIComponent(item.kind) + '/' + encodeURIComponent(item.itemId);
  }

  function badge(kind) {
    return h('span', { className: 'badge kind-' + kind, text: KINDS[kind] || kind });
  }

  function itemCard(item) {
    var owner = item.owner && item.owner.name;
    return h('li', null, h('a', { className: 'item', href: itemHref(item), 'data-item': item.itemId },
      h('div', { className: 'item-top' }, badge(item.kind),
        h('span', { className: 'item-title', text: item.title || '（无标题）' }),
        item.status ? h('span', { className: 'status', text: item.status }) : null),
      item.summary ? h('p', { className: 'item-summary', text: item.summary }) : null,
      h('p', { className: 'item-meta', text: [owner, Y.when(item.updatedAt)].filter(Boolean).join(' · ') })));
  }

  /* The home's sections in page order, each {key, label, kinds, count, latest}: only those the API answered (the
   * sections of apps the company closed to external users are left out). */
  function sectionsOf(home) {
    var byKey = {};
    (home.sections || []).forEach(function (section) { byKey[section.key] = section; });
    return SECTIONS.filter(function (section) { return byKey[section.key]; }).map(function (section) {
      var found = byKey[section.key] || {};
      return { key: section.key, label: section.label, count: found.count || 0, latest: found.latest || [] };
    });
  }

  /* Replies from the company not read yet: each opens its item. */
  function noticesBlock(notices) {
    if (!notices || !notices.length) return null;
    return h('section', { className: 'block', id: 'notices' },
      h('div', { className: 'block-head' }, h('h2', { text: '新回复' })),
      h('ul', { className: 'items' }, notices.map(function (notice) {
        return h('li', null, h('a', { className: 'item notice', href: itemHref({ kind: notice.kind, itemId: notice.itemId }) },
          h('div', { className: 'item-top' }, badge(notice.kind), h('span', { className: 'item-title', text: notice.title || '' })),
          h('p', { className: 'item-summary', text: (notice.by ? notice.by + '：' : '') + (notice.text || '') }),
          h('p', { className: 'item-meta', text: Y.when(notice.at) })));
      })));
  }

  function homeView() {
    Y.show(header(tenantName() || '与我协作'), Y.loading());
    call('GET', '/api/external/home').then(function (home) {
      var contact = home.contact || {};
      if (home.tenant && home.tenant.name) sessionStorage.setItem(keys.tenant, home.tenant.name);
      var sections = sectionsOf(home);
      var total = sections.reduce(function (sum, section) { return sum + section.count; }, 0);
      var tiles = sections.map(function (section) {
        return h('a', { className: section.count ? 'tile' : 'tile none', href: '#/s/' + section.key, 'data-section': section.key },
          h('span', { className: 'tile-count', text: section.count }), h('span', { className: 'tile-label', text: section.label }));
      });
      var blocks = sections.map(function (section) {
        if (!section.latest.length) return null;
        return h('section', { className: 'block', 'data-block': section.key },
          h('div', { className: 'block-head' }, h('h2', { text: section.label + ' · ' + section.count }),
            h('a', { href: '#/s/' + section.key, text: '查看全部' })),
          h('ul', { className: 'items' }, section.latest.slice(0, LATEST).map(itemCard)));
      });
      Y.show(
        h('header', { className: 'bar home' },
          h('div', null, h('h1', { className: 'bar-title', text: tenantName() || '与我协作' }),
            h('p', { className: 'bar-sub', text: contact.name ? contact.name + '，您好' : '与我协作' })),
          h('div', { className: 'bar-actions' }, h('a', { className: 'btn link', id: 'settings-link', href: '#/settings', text: '设置' }),
            h('button', { type: 'button', className: 'btn link', id: 'sign-out', onclick: signOut, text: '退出' }))),
        h('nav', { className: 'tiles', 'aria-label': '分类' }, tiles),
        noticesBlock(home.notices),
        total ? blocks : Y.notice('empty', '暂时没有共享给您的内容', '对接人共享项目、审批、表单、文档、日程或客户资料后，会显示在这里。'),
        H.blocks.map(function (block) { return block(home); }));
    }, function (error) { failed(error, homeView); });
  }

  /* One section's items, newest shared first, a page at a time (the API merges the section's kinds). */
  function sectionView(key) {
    var section = SECTIONS.filter(function (s) { return s.key === key; })[0];
    if (!section) return go('#/', true);
    var cursor = null;
    var list = h('ul', { className: 'items', id: 'section-items' });
    var more = h('button', { type: 'button', className: 'btn ghost wide', id: 'load-more', text: '加载更多' });
    var status = h('div');

    function next() {
      more.hidden = true;
      status.textContent = '';
      status.appendChild(Y.loading());
      call('GET', '/api/external/items', { query: { section: key, cursor: cursor, limit: PAGE } }).then(function (body) {
        status.textContent = '';
        (body.items || []).forEach(function (item) { list.appendChild(itemCard(item)); });
        cursor = body.nextCursor || null;
        more.hidden = !cursor;
        if (!list.children.length) status.appendChild(Y.notice('empty', '这里还没有内容', '对接人共享「' + section.label + '」后会显示在这里。'));
      }, function (error) {
        if (error.handled) return;
        status.textContent = '';
        more.hidden = !cursor;
        status.appendChild(Y.notice('error', error.code === 'network' ? '网络不可用' : '加载失败', Y.describe(error), { label: '重试', run: next }));
      });
    }

    more.addEventListener('click', next);
    Y.show(header(section.label, '#/'), list, status, more);
    next();
  }

  function formInput(spec) {
    var props = { name: spec.name, required: !!spec.required, id: 'f-' + spec.name };
    if (spec.type === 'textarea') return h('textarea', Object.assign(props, { rows: 4 }));
    if (spec.type === 'select') {
      return h('select', props, h('option', { value: '', text: '请选择' }), (spec.options || []).map(function (option) {
        var value = typeof option === 'object' ? option.value : option;
        return h('option', { value: value, text: typeof option === 'object' ? option.label || option.value : option });
      }));
    }
    var type = { number: 'number', date: 'date' }[spec.type] || 'text';
    return h('input', Object.assign(props, { type: type, step: type === 'number' ? 'any' : null }));
  }

  function formBlock(item) {
    var fields = (item.form && item.form.fields) || [];
    var inputs = fields.map(formInput);
    var form = h('form', { className: 'card form', id: 'fill-form', novalidate: true }, h('h2', { text: '填写表单' }),
      fields.map(function (spec, i) { return Y.field(spec.label || spec.name, inputs[i], spec.required ? '必填' : null); }),
      h('button', { type: 'submit', className: 'btn primary', text: '提交' }));
    var say = Y.bindForm(form, function () {
      var values = {};
      fields.forEach(function (spec, i) {
        var raw = inputs[i].value.trim();
        if (spec.required && !raw) throw new Y.ApiError(400, 'missing', '请填写「' + (spec.label || spec.name) + '」。');
        if (raw) values[spec.name] = spec.type === 'number' ? Number(raw) : raw;
      });
      return call('POST', itemPath(item) + '/submissions', { body: { values: values } }).then(function () {
        form.reset();
        say('已提交，感谢您的填写。');
      });
    });
    return form;
  }

  function commentNode(comment) {
    var author = comment.author || {};
    var name = author.kind === 'contact' ? '我' : author.name || '';
    return h('li', { className: 'comment' + (author.kind === 'contact' ? ' mine' : '') },
      h('p', { className: 'comment-meta', text: [name, Y.when(comment.createdAt)].filter(Boolean).join(' · ') }),
      h('p', { className: 'comment-text', text: comment.text }));
  }

  function commentsBlock(item, comments, earlier) {
    var list = h('ul', { className: 'comments', id: 'comments' }, comments.map(commentNode));
    var empty = h('p', { className: 'muted', text: '还没有评论。' });
    empty.hidden = comments.length > 0;
    var text = h('textarea', { name: 'text', rows: 3, maxlength: 2000, placeholder: '写下您的意见或问题…', required: true });
    var form = h('form', { className: 'comment-form', id: 'comment-form', novalidate: true }, text,
      h('button', { type: 'submit', className: 'btn primary', text: '发表评论' }));
    Y.bindForm(form, function () {
      var value = text.value.trim();
      if (!value) throw new Y.ApiError(400, 'missing', '请输入评论内容。');
      return call('POST', itemPath(item) + '/comments', { body: { text: value } }).then(function (comment) {
        list.appendChild(commentNode(comment));
        empty.hidden = true;
        text.value = '';
      });
    });
    return h('section', { className: 'card' }, h('h2', { text: '评论' }),
      earlier ? h('p', { className: 'muted', text: '只显示最近的评论。' }) : null, list, empty, form);
  }

  /* A form record's answers, in the form's field order, labelled. */
  function valuesBlock(item) {
    var values = item.values || {};
    var fields = (item.form && item.form.fields) || [];
    var names = fields.map(function (f) { return f.name; }).filter(function (name) { return name in values; });
    Object.keys(values).forEach(function (name) { if (names.indexOf(name) < 0) names.push(name); });
    if (!names.length) return null;
    var labels = {};
    fields.forEach(function (f) { labels[f.name] = f.label; });
    return h('section', { className: 'card', id: 'record-values' }, h('h2', { text: '填写内容' }),
      h('dl', { className: 'values' }, names.map(function (name) {
        return [h('dt', { text: labels[name] || name }), h('dd', { text: values[name] })];
      })));
  }

  function itemPath(item) {
    return '/api/external/items/' + encodeURIComponent(item.kind) + '/' + encodeURIComponent(item.itemId);
  }

  function itemView(kind, itemId) {
    var fab = h('a', { className: 'fab', href: '#/', id: 'home-button', 'aria-label': '返回首页' }, '⌂', h('span', { text: '首页' }));
    var section = sectionOf(kind);
    var back = section ? '#/s/' + section.key : '#/';
    Y.show(header(KINDS[kind] || '详情', back), Y.loading(), fab);
    call('GET', itemPath({ kind: kind, itemId: itemId })).then(function (body) {
      var item = body.item;
      var comments = body.comments || [];
      var link = Y.safeUrl(item.url);
      var owner = item.owner && item.owner.name;
      Y.show(header(KINDS[item.kind] || '详情', back),
        h('article', { className: 'card detail', id: 'item-detail' },
          h('div', { className: 'item-top' }, badge(item.kind), item.status ? h('span', { className: 'status', text: item.status }) : null),
          h('h2', { className: 'detail-title', text: item.title || '（无标题）' }),
          h('p', { className: 'item-meta', text: [owner && '负责人 ' + owner, item.updatedAt && '更新于 ' + Y.when(item.updatedAt)].filter(Boolean).join(' · ') }),
          item.summary ? h('p', { className: 'detail-summary', text: item.summary }) : null,
          link ? h('a', { className: 'btn ghost', href: link, target: '_blank', rel: 'noopener noreferrer', text: '打开原文' }) : null),
        valuesBlock(item),
        item.kind === 'form' && item.form && (item.form.fields || []).length ? formBlock(item) : null,
        commentsBlock(item, comments, body.moreComments), fab);
    }, function (error) {
      if (error.handled) return;
      if (error.status === 404) {
        Y.show(header('详情', back), Y.notice('empty', '该内容已不再共享给您', '对接人可能已取消共享或删除了这项内容。', { label: '返回首页', run: function () { go('#/'); } }), fab);
      } else {
        failed(error, function () { itemView(kind, itemId); });
      }
    });
  }

  /* ---- routing ---- */

  function go(hash, replace) {
    if (location.hash === hash || (hash === '#/' && !location.hash)) return route();
    if (replace) {
      history.replaceState(null, '', location.pathname + location.search + hash);
      return route();
    }
    location.hash = hash;
  }

  function route() {
    var activation = /^#activate=([^&]+)/.exec(location.hash);
    if (activation) {
      history.replaceState(null, '', location.pathname + location.search);
      forget();
      return activationView(decodeURIComponent(activation[1]));
    }
    var parts = location.hash.replace(/^#\/?/, '').split('/').map(function (part) {
      try { return decodeURIComponent(part); } catch (e) { return ''; }
    });
    var signedInNow = !!token();
    if (H.routes.some(function (view) { return view(parts, signedInNow); })) return;
    if (!signedInNow) return startSignIn();
    if (parts[0] === 's' && parts[1]) return sectionView(parts[1]);
    if (parts[0] === 'i' && parts[1] && parts[2]) return itemView(parts[1], parts.slice(2).join('/'));
    return homeView();
  }

  function start() {
    if (!/^[A-Za-z0-9]{1,64}$/.test(tenantKey)) {
      return fatal('链接不完整', '链接中缺少团队识别码（tenantKey）。请从对接人企业微信名片上的「与我协作」重新打开。');
    }
    window.addEventListener('hashchange', route);
    var code = Y.query.get('code');
    if (code && H.oauthReturn && H.oauthReturn(code, Y.query.get('state') || '')) return;
    if (code && !token() && !/^#activate=/.test(location.hash)) return exchangeCode(code, Y.query.get('state') || '');
    route();
  }

  /* What the page's own scripts build their views with, and where they plug in: `routes` take the fragments they
   * know (view(parts, signedIn) returns true when it did), `blocks` add to the home (block(home) returns an element or
   * null), oauthReturn(code, state) takes the OAuth round trips they began, loginExtras() adds to the login form. */
  var H = window.YQH = {
    tenantKey: tenantKey, call: call, header: header, go: go, failed: failed, signedIn: signedIn, token: token,
    forget: forget, startSignIn: startSignIn, signOut: signOut, tenantName: tenantName, passwordInputs: passwordInputs,
    routes: [], blocks: [], oauthReturn: null, loginExtras: null
  };

  /* Deferred scripts run in order before DOMContentLoaded: the page's own scripts have registered by then. */
  document.addEventListener('DOMContentLoaded', start);
})();
