/* 外部互联: the members' workspace. Signs the member in through WeCom (OAuth inside the WeCom client, the QR login in
 * a desktop browser), then routes by path — the same paths the WeCom cards Yunqiao sends link to:
 *   /directory/contacts                 the member's contacts grouped by organisation, search, load more
 *   /directory/contacts/<id>?tab=       a contact's card: 基本信息 权限设置 账号信息 共享 动态
 *   /directory/add/manual|wechat|organisation   新建, 邀请微信好友, 从其他组织添加
 *   /directory/org-invitations          invitations from and to other organisations
 *   /admin/account-applications[/<id>]  外部账号开通申请: the inbox, one application
 *   /directory/messages[/<contactId>]   消息 (workspace-messages.js): threads with contacts, one thread
 * Every path carries ?tenantKey=. Moving between pages uses history.pushState, so each page has its own address. */
(function () {
  'use strict';
  var Y = window.YQ;
  var h = Y.h;
  var tenantKey = (Y.query.get('tenantKey') || '').trim();
  var memberAuth = Y.memberSession(tenantKey, function (note) { signInView(note); });
  var inWeCom = memberAuth.inWeCom;
  var call = memberAuth.call, token = memberAuth.token, me = memberAuth.me, remember = memberAuth.remember;
  var forget = memberAuth.forget, returnAddress = memberAuth.returnAddress;
  var PAGE = 20;
  var SOURCES = { manual: '手动添加', invitation: '微信邀请', other_organisation: '其他组织', wecom_customer: '企业微信客户',
                  wecom_chain: '上下游' };
  var ACCOUNT = { none: '未开通', pending: '审批中', opened: '已开通', disabled: '已停用' };
  var PERMISSIONS = { view: '仅查看', edit: '可编辑' };
  var FIELDS = { name: '姓名', mobile: '手机号', email: '邮箱', orgName: '组织', position: '职位', remark: '备注',
                 securityLevel: '安全级别', visibleMembers: '可见成员', shareList: '共享', accountStatus: '账号状态',
                 accountName: '账号', reason: '驳回原因', organisationId: '组织', departmentId: '部门', source: '来源',
                 adderId: '添加人' };
  var ACTIONS = { create: '创建了联系人', edit: '修改了基本信息', visible_members: '修改了可见成员', share_list: '修改了共享',
                  delete: '删除了联系人', account_applied: '申请开通外部账号', account_approved: '通过了开通申请',
                  account_rejected: '驳回了开通申请', account_assigned: '分配了外部账号', account_activated: '激活了账号',
                  account_activation_issued: '生成了激活链接', account_disabled: '停用了账号', account_enabled: '启用了账号',
                  account_password_changed: '修改了密码', item_shared: '共享了内容', item_unshared: '取消了共享' };
  var INVITATION = { open: '待接受', accepting: '处理中', accepted: '已接受', revoked: '已撤回', expired: '已过期',
                     pending: '待回复', declined: '已拒绝' };

  /* ---- session ---- */

  function roles() { return me().roles || []; }

  /* Holds 外部互联维护 or maintains a dimension: sees the applications to decide. */
  function approverOf(dimensionId) {
    var held = roles();
    if (held.indexOf('directory_maintainer') >= 0) return true;
    if (dimensionId === undefined) return held.some(function (r) { return r.indexOf('dim:') === 0; });
    return !!dimensionId && held.indexOf('dim:' + dimensionId) >= 0;
  }

  function enc(value) { return encodeURIComponent(value); }

  /* ---- addresses ---- */

  function href(path, params) {
    var query = new URLSearchParams({ tenantKey: tenantKey });
    Object.keys(params || {}).forEach(function (name) { if (params[name]) query.set(name, params[name]); });
    return Y.base + path + '?' + query.toString();
  }

  function go(path, params, replace) {
    history[replace ? 'replaceState' : 'pushState'](null, '', href(path, params));
    route();
  }

  /* A link inside the workspace: followed without reloading the page (a modified click opens a tab as usual). */
  function link(path, params, props) {
    var attributes = Object.assign({ href: href(path, params) }, props || {});
    var children = Array.prototype.slice.call(arguments, 3);
    attributes.onclick = function (event) {
      if (event.button || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      go(path, params);
    };
    return h.apply(null, ['a', attributes].concat(children));
  }

  /* ---- the shell ---- */

  /* 绑定个人微信: through the official account's OAuth (docs/members.md). */
  function startWechatBinding(event) {
    call('GET', '/api/auth/wechat-binding/authorize-url', { query: { redirectUri: returnAddress() }, oauth: true }).then(function (answer) {
      if (Y.safeUrl(answer.url)) location.assign(answer.url);
    }, function (error) {
      event.target.textContent = Y.describe(error);
    });
  }

  function bindWechat(code, state) {
    history.replaceState(null, '', returnAddress().slice(location.origin.length));
    call('POST', '/api/auth/wechat-binding', { body: { code: code, state: state }, oauth: true }).then(function () {
      page(header('外部互联'), Y.notice('done', '已绑定个人微信', '它不会再作为客户同步。'));
    }, function (error) {
      page(header('外部互联'), Y.notice('error', '未能绑定个人微信', Y.describe(error)));
    });
  }

  /* 切换组织: the own team, then teams where the member is an external contact (外部). */
  function organisationSwitcher() {
    var list = h('ul', { id: 'org-list' });
    var box = h('details', { className: 'ws-orgs', id: 'org-switcher' }, h('summary', { className: 'btn link', text: '切换组织' }), list);
    box.addEventListener('toggle', function () {
      if (!box.open || list.dataset.loaded) return;
      call('GET', '/api/auth/session').then(function (session) {
        list.dataset.loaded = '1';
        session.organisations.forEach(function (org) {
          list.appendChild(h('li', { 'data-tenant': org.tenantKey }, h(org.external ? 'a' : 'span', { className: 'ws-org', href: org.homeUrl },
            h('span', { text: org.name }), h('span', org.external ? { className: 'badge ws-ext', text: '外部' } : { className: 'muted', text: '当前' }))));
        });
        list.appendChild(h('li', null, h('button', { type: 'button', className: 'btn link ws-org', id: 'bind-wechat', onclick: startWechatBinding, text: '绑定个人微信' })));
      }, function (error) {
        list.textContent = Y.describe(error);
      });
    });
    return box;
  }

  function header(title, back, sub) {
    var who = me();
    return h('header', { className: 'bar ws-bar' },
      back ? link(back, null, { className: 'bar-back', 'aria-label': '返回' }, '‹') : null,
      h('div', { className: 'ws-bar-text' }, h('h1', { className: 'bar-title', text: title }),
        sub ? h('p', { className: 'bar-sub', text: sub }) : null),
      token() ? h('div', { className: 'ws-who' }, h('span', { className: 'muted', text: who.name || who.userId || '' }),
        organisationSwitcher(),
        h('button', { type: 'button', className: 'btn link', id: 'sign-out', onclick: signOut, text: '退出' })) : null);
  }

  var SECTIONS = [
    { path: '/directory/contacts', label: '外部互联' },
    { path: '/directory/org-invitations', label: '组织邀请' },
    { path: '/admin/account-applications', label: '开通申请' }
  ];

  /* The admin console's pages (admin.js, admin-tree.js, admin-accounts.js; served at /admin/console/*): admins see
   * them all, 外部互联维护 holders 外部组织维护 and 账号安全. Each is loaded as a page of its own. */
  var CONSOLE = [
    { path: '/admin/console/directory', label: '外部组织维护', admin: false },
    { path: '/admin/console/accounts', label: '账号安全', admin: false },
    { path: '/admin/console/settings', label: '设置', admin: true },
    { path: '/admin/console/wecom', label: '企业微信', admin: true }
  ];

  function consoleSections() {
    var held = roles();
    return CONSOLE.filter(function (section) {
      return held.indexOf('admin') >= 0 || (!section.admin && held.indexOf('directory_maintainer') >= 0);
    });
  }

  function nav(current) {
    /* Sections a page's own script adds (workspace-messages.js: 消息) follow the workspace's own. */
    return h('nav', { className: 'ws-nav', 'aria-label': '栏目' }, SECTIONS.concat(window.YQW.sections).map(function (section) {
      return link(section.path, null, { className: section.path === current ? 'on' : '', 'aria-current': section.path === current ? 'page' : null },
        section.label);
    }), consoleSections().map(function (section) {
      /* another page (its own script): a plain link */
      var here = section.path === current;
      return h('a', { href: href(section.path), className: here ? 'on' : '', 'aria-current': here ? 'page' : null,
                      'data-console': section.path }, section.label);
    }));
  }

  function page() {
    Y.show.apply(null, arguments);
    document.getElementById('app').className = 'ws';
    /* On a narrow screen the navigation scrolls sideways: bring the current section into view. */
    var on = document.querySelector('.ws-nav .on');
    if (on) on.parentNode.scrollLeft = on.offsetLeft - on.parentNode.offsetLeft - 16;
  }

  function failed(title, error, retry) {
    if (error && error.handled) return;
    page(header(title, '/directory/contacts'), Y.notice('error', error && error.code === 'network' ? '网络不可用' : '加载失败',
      Y.describe(error), retry && { label: '重试', run: retry }));
  }

  /* An inline error or notice inside a view (the view itself stays). */
  function inlineError(error, retry) {
    if (error && error.handled) return h('span');
    return Y.notice('error', error && error.code === 'network' ? '网络不可用' : '加载失败', Y.describe(error),
      retry && { label: '重试', run: retry });
  }

  function cells(rows, props) { return h('div', Object.assign({ className: 'weui-cells' }, props || {}), rows); }

  function row(label, value, props) {
    return h('div', Object.assign({ className: 'weui-cell' }, props || {}),
      h('div', { className: 'weui-cell__bd', text: label }),
      h('div', { className: 'weui-cell__ft ws-value', text: value === null || value === undefined || value === '' ? '—' : value }));
  }

  function button(label, kind, onclick, props) {
    return h('button', Object.assign({ type: 'button', className: 'weui-btn weui-btn_' + (kind || 'default'), onclick: onclick, text: label },
      props || {}));
  }

  function input(name, props) {
    return h('input', Object.assign({ className: 'weui-input', name: name, id: 'f-' + name }, props || {}));
  }

  function formRow(label, control, hint) {
    return h('label', { className: 'weui-cell weui-cell_active', 'for': control.id },
      h('div', { className: 'weui-cell__hd' }, h('span', { className: 'weui-label', text: label })),
      h('div', { className: 'weui-cell__bd' }, control, hint ? h('span', { className: 'field-hint', text: hint }) : null));
  }

  function whenText(value) { return Y.when(value); }

  /* Copy text, or select it for the person to copy where the clipboard is not offered (plain http, old WebViews). */
  function copier(field) {
    return button('复制', 'default', function () {
      field.select();
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(field.value).catch(function () {});
      else if (document.execCommand) document.execCommand('copy');
    }, { className: 'weui-btn weui-btn_default weui-btn_mini' });
  }

  /* ---- signing in ---- */

  function signInView(note) {
    if (memberAuth.signsInAtOnce(note)) {
      page(header('外部互联'), Y.loading('正在通过企业微信登录…'));
      memberAuth.startLogin().catch(function (error) { signInView(Y.describe(error)); });
      return;
    }
    var form = h('form', { className: 'card form ws-login', id: 'login-form', novalidate: true },
      h('h2', { text: '登录外部互联' }),
      note ? h('p', { className: 'form-note', role: 'status', text: note }) : null,
      h('p', { className: 'muted', text: inWeCom ? '使用企业微信身份登录。' : '请用手机企业微信扫码登录，或在企业微信工作台中打开外部互联。' }),
      h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', id: 'qr-login', text: inWeCom ? '企业微信授权登录' : '企业微信扫码登录' }));
    Y.bindForm(form, memberAuth.startLogin);
    page(header('外部互联'), form);
  }

  function exchange(code, state) {
    var signingIn = memberAuth.exchange(code, state);
    page(header('外部互联'), Y.loading('正在登录…'));
    signingIn.then(function () { route(); }, function (error) {
      if (error.code === 'tenant_not_found') return page(header('外部互联'), Y.notice('error', '无法打开', Y.describe(error)));
      signInView(Y.describe(error));
    });
  }

  function signOut() {
    var current = token();
    forget();
    var done = function () { signInView('您已退出登录。'); };
    if (!current) return done();
    Y.api('DELETE', '/api/auth/session', { token: current }).then(done, done);
  }

  /* ---- 外部互联: the list ---- */

  function listView() {
    var q = new URLSearchParams(location.search).get('q') || '';
    var cursor = null;
    var lastGroup = null;
    var list = h('div', { id: 'contact-list' });
    var status = h('div');
    var more = button('加载更多', 'default', function () { next(); }, { id: 'load-more', hidden: true });
    var search = input('q', { type: 'search', placeholder: '搜索姓名、手机号或邮箱', value: q, className: 'weui-search-bar__input',
                              'aria-label': '搜索', maxlength: 64, autocomplete: 'off' });
    var form = h('form', { className: 'weui-search-bar weui-search-bar_focusing ws-search', id: 'search-form', role: 'search' },
      h('div', { className: 'weui-search-bar__form' }, h('div', { className: 'weui-search-bar__box' }, search)),
      h('button', { type: 'submit', className: 'weui-btn weui-btn_mini weui-btn_primary ws-search-go', text: '搜索' }));
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      go('/directory/contacts', { q: search.value.trim() }, true);
    });

    function contactRow(contact) {
      var sub = [contact.position, contact.mobile || contact.email].filter(Boolean).join(' · ');
      return link('/directory/contacts/' + enc(contact.contactId), null, { className: 'weui-cell weui-cell_access', 'data-contact': contact.contactId },
        h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: contact.name }),
          sub ? h('p', { className: 'ws-sub', text: sub }) : null),
        h('div', { className: 'weui-cell__ft', text: SOURCES[contact.source] || '' }));
    }

    /* A search filters each page the API reads, so a page can hold no match while later ones do: such a page is
     * followed by the next one at once (up to SKIP_PAGES in a row, then 加载更多 lets the member go on). */
    var SKIP_PAGES = 10;

    function next(skipped) {
      skipped = skipped || 0;
      more.hidden = true;
      status.textContent = '';
      status.appendChild(Y.loading());
      call('GET', '/api/directory/contacts', { query: { q: q, cursor: cursor, limit: PAGE } }).then(function (body) {
        status.textContent = '';
        var found = (body.groups || []).some(function (group) { return group.contacts.length; });
        if (!found && body.nextCursor && skipped < SKIP_PAGES) {
          cursor = body.nextCursor;
          next(skipped + 1);
          return;
        }
        (body.groups || []).forEach(function (group) {
          if (!lastGroup || lastGroup.id !== (group.organisationId || '')) {
            var rows = cells([], { 'data-group': group.organisationId || '' });
            list.appendChild(h('div', { className: 'weui-cells__title ws-group', text: group.orgName || '未归入组织' }));
            list.appendChild(rows);
            lastGroup = { id: group.organisationId || '', rows: rows };
          }
          group.contacts.forEach(function (contact) { lastGroup.rows.appendChild(contactRow(contact)); });
        });
        cursor = body.nextCursor || null;
        more.hidden = !cursor;
        if (!list.children.length) {
          status.appendChild(q ? Y.notice('empty', '没有找到「' + q + '」', '可以按姓名、手机号或邮箱搜索；姓名需完整或从开头输入。')
            : Y.notice('empty', '还没有外部联系人', '新建联系人、邀请微信好友或添加其他组织的成员后，会显示在这里。'));
        }
      }, function (error) {
        status.textContent = '';
        more.hidden = !cursor;
        status.appendChild(inlineError(error, function () { next(); }));
      });
    }

    var actions = h('div', { className: 'tiles ws-actions' },
      link('/directory/add/manual', null, { className: 'tile', id: 'add-manual' }, h('span', { className: 'tile-count', text: '＋' }), h('span', { className: 'tile-label', text: '新建' })),
      link('/directory/add/wechat', null, { className: 'tile', id: 'add-wechat' }, h('span', { className: 'tile-count', text: '✉' }), h('span', { className: 'tile-label', text: '邀请微信好友' })),
      link('/directory/add/organisation', null, { className: 'tile', id: 'add-organisation' }, h('span', { className: 'tile-count', text: '⇄' }), h('span', { className: 'tile-label', text: '从其他组织添加' })));
    page(header('外部互联'), nav('/directory/contacts'), actions, form, list, status, more);
    next();
  }

  /* ---- the contact card ---- */

  var TABS = [
    { key: 'basic', label: '基本信息' }, { key: 'permissions', label: '权限设置' }, { key: 'account', label: '账号信息', needs: 'account' },
    { key: 'sharing', label: '共享' }, { key: 'activity', label: '动态', needs: 'account' }
  ];

  function cardView(contactId, wanted) {
    var path = '/directory/contacts/' + enc(contactId);
    page(header('联系人', '/directory/contacts'), Y.loading());
    call('GET', '/api/directory/contacts/' + enc(contactId)).then(function (contact) {
      var allowed = contact.permissions || {};
      var tabs = TABS.filter(function (tab) { return !tab.needs || allowed[tab.needs]; });
      var tab = tabs.filter(function (t) { return t.key === wanted; })[0] || tabs[0];
      var body = h('section', { className: 'ws-tab', id: 'tab-' + tab.key });
      var bar = h('div', { className: 'weui-navbar ws-tabs', role: 'tablist' }, tabs.map(function (t) {
        return h('button', { type: 'button', role: 'tab', className: 'weui-navbar__item' + (t.key === tab.key ? ' weui-bar__item_on' : ''),
                             'aria-selected': t.key === tab.key ? 'true' : 'false', 'data-tab': t.key, text: t.label,
                             onclick: function () { go(path, { tab: t.key }, true); } });
      }));
      var sub = [contact.orgName, contact.position].filter(Boolean).join(' · ');
      /* What a page's own scripts add to every card (workspace-messages.js: 发消息). */
      var extras = window.YQW.cardLinks.map(function (make) { return make(contact); });
      page(header(contact.name, '/directory/contacts', sub), extras, bar, body);
      var render = { basic: basicTab, permissions: permissionsTab, account: accountTab, sharing: sharingTab, activity: activityTab }[tab.key];
      render(contact, body, function () { cardView(contactId, tab.key); });
    }, function (error) {
      if (error.handled) return;
      if (error.status === 404) {
        return page(header('联系人', '/directory/contacts'), Y.notice('empty', '没有找到这个外部联系人', Y.describe(error),
          { label: '返回外部互联', run: function () { go('/directory/contacts'); } }));
      }
      failed('联系人', error, function () { cardView(contactId, wanted); });
    });
  }

  function contactPath(contact) { return '/api/directory/contacts/' + enc(contact.contactId); }

  function basicTab(contact, body, reload) {
    var allowed = contact.permissions || {};
    function show() {
      body.textContent = '';
      body.appendChild(cells([
        row('姓名', contact.name), row('手机号', contact.mobile), row('邮箱', contact.email), row('组织', contact.orgName),
        row('职位', contact.position), row('备注', contact.remark), row('来源', SOURCES[contact.source] || contact.source),
        row('添加人', contact.adderId), row('添加时间', whenText(contact.createdAt))
      ], { id: 'basic-values' }));
      var actions = h('div', { className: 'ws-buttons' },
        allowed.edit ? button('编辑', 'primary', edit, { id: 'edit-basic' }) : null,
        allowed['delete'] && SOURCES[contact.source] && contact.source.indexOf('wecom_') !== 0 ? button('删除联系人', 'warn', confirmDelete, { id: 'delete-contact' }) : null);
      if (actions.children.length) body.appendChild(actions);
    }
    function confirmDelete(event) {
      var target = event.currentTarget;
      if (target.getAttribute('data-armed') !== '1') {
        target.setAttribute('data-armed', '1');
        target.textContent = '确认删除？再点一次';
        return;
      }
      target.disabled = true;
      call('DELETE', contactPath(contact)).then(function () { go('/directory/contacts'); }, function (error) {
        target.disabled = false;
        body.appendChild(h('p', { className: 'form-message error', role: 'alert', text: Y.describe(error) }));
      });
    }
    function edit() {
      var synced = contact.source === 'wecom_customer' || contact.source === 'wecom_chain';
      var inputs = {
        name: input('name', { value: contact.name || '', maxlength: 64, required: true, readonly: synced }),
        mobile: input('mobile', { value: contact.mobile || '', type: 'tel', maxlength: 20 }),
        email: input('email', { value: contact.email || '', type: 'email', maxlength: 254 }),
        position: input('position', { value: contact.position || '', maxlength: 64, readonly: synced }),
        remark: h('textarea', { className: 'weui-textarea', name: 'remark', id: 'f-remark', rows: 3, maxlength: 500, value: contact.remark || '' })
      };
      var form = h('form', { className: 'ws-form', id: 'edit-form', novalidate: true },
        h('div', { className: 'weui-cells weui-cells_form' }, formRow('姓名', inputs.name, synced ? '来自企业微信，随同步更新' : null), formRow('手机号', inputs.mobile),
          formRow('邮箱', inputs.email), formRow('职位', inputs.position), formRow('备注', inputs.remark)),
        h('div', { className: 'ws-buttons' }, h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', text: '保存' }),
          button('取消', 'default', show)));
      Y.bindForm(form, function () {
        var changes = {};
        Object.keys(inputs).forEach(function (key) {
          var value = inputs[key].value.trim();
          if (value !== (contact[key] || '')) changes[key] = value || null;
        });
        if (!inputs.name.value.trim()) throw new Y.ApiError(400, 'invalid_name', '');
        if (!Object.keys(changes).length) return show();
        return call('PATCH', contactPath(contact), { body: changes }).then(reload);
      });
      body.textContent = '';
      body.appendChild(form);
      inputs.name.focus();
    }
    show();
  }

  function memberList(ids, empty) {
    if (!ids.length) return h('p', { className: 'muted ws-pad', text: empty });
    return cells(ids.map(function (id) { return h('div', { className: 'weui-cell' }, h('div', { className: 'weui-cell__bd', text: id })); }));
  }

  function permissionsTab(contact, body, reload) {
    var allowed = contact.permissions || {};
    var level = input('securityLevel', { type: 'number', min: -999, max: 0, step: 1, value: String(contact.securityLevel || 0), readonly: !allowed.edit });
    var levelForm = h('form', { className: 'ws-form', id: 'level-form', novalidate: true },
      h('div', { className: 'weui-cells__title', text: '安全级别' }),
      h('div', { className: 'weui-cells weui-cells_form' }, formRow('安全级别', level, '-999 到 0，数值越小越严格')),
      allowed.edit ? h('div', { className: 'ws-buttons' }, h('button', { type: 'submit', className: 'weui-btn weui-btn_primary weui-btn_mini', text: '保存安全级别' })) : null);
    if (allowed.edit) {
      Y.bindForm(levelForm, function () {
        var value = Number(level.value);
        if (!/^-?\d+$/.test(level.value.trim()) || value < -999 || value > 0) throw new Y.ApiError(400, 'invalid_security_level', '');
        return call('PATCH', contactPath(contact), { body: { securityLevel: value } }).then(reload);
      });
    }
    body.appendChild(levelForm);
    body.appendChild(h('div', { className: 'weui-cells__title', text: '可见成员' }));
    var ids = contact.visibleMembers || [];
    if (!allowed.share) {
      body.appendChild(memberList(ids, '没有单独设置可见成员。'));
      return;
    }
    var text = h('textarea', { className: 'weui-textarea', name: 'visibleMembers', id: 'f-visibleMembers', rows: 3, value: ids.join('\n'),
                               placeholder: '每行一个成员的企业微信账号（userid）' });
    var form = h('form', { className: 'ws-form', id: 'visible-form', novalidate: true },
      h('div', { className: 'weui-cells weui-cells_form' }, formRow('成员账号', text, '这些成员可以查看这个联系人')),
      h('div', { className: 'ws-buttons' }, h('button', { type: 'submit', className: 'weui-btn weui-btn_primary weui-btn_mini', text: '保存可见成员' })));
    Y.bindForm(form, function () {
      var userIds = text.value.split(/[\s,，、]+/).filter(Boolean);
      return call('PUT', contactPath(contact) + '/visible-members', { body: { userIds: userIds } }).then(reload);
    });
    body.appendChild(form);
  }

  /* The latest account event of the trail: an application (its id) or a rejection (its reason). */
  function accountTab(contact, body, reload) {
    var status = contact.accountStatus || 'none';
    var rows = [row('账号状态', ACCOUNT[status] || status, { id: 'account-status' })];
    if (contact.accountName) rows.push(row('账号', contact.accountName, { id: 'account-name' }));
    body.appendChild(cells(rows));
    var extra = h('div');
    body.appendChild(extra);
    call('GET', contactPath(contact) + '/audit', { query: { limit: 50 } }).then(function (trail) {
      var last = (trail.entries || []).filter(function (e) { return /^account_(applied|approved|rejected)$/.test(e.action); })[0];
      var after = (last && last.after) || {};
      if (status === 'pending' && last && last.action === 'account_applied') {
        extra.appendChild(h('p', { className: 'ws-pad muted', text: '申请已提交，等待审批人处理。' }));
        extra.appendChild(link('/admin/account-applications/' + enc(after.applicationId), null, { className: 'weui-btn weui-btn_default', id: 'open-application' }, '查看申请'));
      }
      if (status === 'none') {
        if (last && last.action === 'account_rejected') {
          extra.appendChild(h('p', { className: 'form-note', id: 'rejected-reason', text: '上次申请已被驳回（' + last.actor + '，' + whenText(last.at) + '）：' + (after.reason || '') }));
        }
        extra.appendChild(applyForm(contact, reload, last && last.action === 'account_rejected'));
      }
    }, function (error) {
      if (status === 'none') extra.appendChild(applyForm(contact, reload, false));
      else extra.appendChild(inlineError(error));
    });
  }

  function applyForm(contact, reload, again) {
    var remark = h('textarea', { className: 'weui-textarea', name: 'remark', id: 'f-apply-remark', rows: 3, maxlength: 500,
                                 placeholder: '说明为什么需要为这位联系人开通外部账号（选填）' });
    var form = h('form', { className: 'ws-form', id: 'apply-form', novalidate: true },
      h('div', { className: 'weui-cells__title', text: again ? '重新申请开通' : '申请开通外部账号' }),
      h('div', { className: 'weui-cells weui-cells_form' }, formRow('备注', remark)),
      h('div', { className: 'ws-buttons' }, h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', text: again ? '重新申请' : '申请开通' })));
    Y.bindForm(form, function () {
      return call('POST', contactPath(contact) + '/account-applications', { body: { remark: remark.value.trim() || null } }).then(reload);
    });
    return form;
  }

  function sharingTab(contact, body, reload) {
    var allowed = contact.permissions || {};
    var entries = contact.shareList || {};
    var ids = Object.keys(entries).sort();
    body.appendChild(h('div', { className: 'weui-cells__title', text: '共享成员' }));
    if (!allowed.share) {
      body.appendChild(ids.length ? cells(ids.map(function (id) {
        return row(id, PERMISSIONS[(entries[id] || {}).permission] || '');
      }), { id: 'share-list' }) : h('p', { className: 'muted ws-pad', text: '还没有共享给其他成员。' }));
      return;
    }
    var working = {};
    ids.forEach(function (id) { working[id] = (entries[id] || {}).permission || 'view'; });
    var list = cells([], { id: 'share-list' });
    function permissionSelect(value, onchange, id) {
      return h('select', { className: 'weui-select ws-select', id: id, onchange: onchange, 'aria-label': '权限' },
        h('option', { value: 'view', text: '仅查看', selected: value === 'view' }), h('option', { value: 'edit', text: '可编辑', selected: value === 'edit' }));
    }
    function draw() {
      list.textContent = '';
      var names = Object.keys(working).sort();
      if (!names.length) list.appendChild(h('div', { className: 'weui-cell' }, h('div', { className: 'weui-cell__bd muted', text: '还没有共享给其他成员。' })));
      names.forEach(function (id) {
        list.appendChild(h('div', { className: 'weui-cell', 'data-member': id },
          h('div', { className: 'weui-cell__bd', text: id }),
          h('div', { className: 'weui-cell__ft ws-inline' },
            permissionSelect(working[id], function (event) { working[id] = event.target.value; }),
            button('移除', 'default', function () { delete working[id]; draw(); }, { className: 'weui-btn weui-btn_default weui-btn_mini' }))));
      });
    }
    draw();
    var who = input('shareUser', { placeholder: '成员账号（userid）', maxlength: 64, autocapitalize: 'off' });
    var level = permissionSelect('view', null, 'f-sharePermission');
    var form = h('form', { className: 'ws-form', id: 'share-form', novalidate: true },
      h('div', { className: 'weui-cells weui-cells_form' }, formRow('添加成员', who), formRow('权限', level)),
      h('div', { className: 'ws-buttons' },
        button('添加', 'default', function () {
          var id = who.value.trim();
          if (id) { working[id] = level.value; who.value = ''; draw(); }
        }, { id: 'share-add' }),
        h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', id: 'share-save', text: '保存共享' })));
    Y.bindForm(form, function () {
      var shareList = {};
      Object.keys(working).forEach(function (id) { shareList[id] = { permission: working[id] }; });
      return call('PUT', contactPath(contact) + '/share-list', { body: { shareList: shareList } }).then(reload);
    });
    body.appendChild(list);
    body.appendChild(form);
  }

  function describeChange(entry) {
    var after = entry.after || {};
    var before = entry.before || {};
    return Object.keys(Object.assign({}, before, after)).filter(function (key) { return FIELDS[key]; }).map(function (key) {
      function text(value) {
        if (value === null || value === undefined || value === '') return '空';
        if (Array.isArray(value)) return value.join('、') || '空';
        if (typeof value === 'object') return Object.keys(value).map(function (id) { return id + '（' + (PERMISSIONS[(value[id] || {}).permission] || '') + '）'; }).join('、') || '空';
        if (key === 'accountStatus') return ACCOUNT[value] || value;
        if (key === 'source') return SOURCES[value] || value;
        return String(value);
      }
      return FIELDS[key] + '：' + (key in before ? text(before[key]) + ' → ' : '') + text(after[key]);
    }).join('；');
  }

  function activityTab(contact, body) {
    var cursor = null;
    var list = h('div', { className: 'weui-cells', id: 'activity' });
    var status = h('div');
    var more = button('加载更多', 'default', next, { hidden: true });
    function next() {
      more.hidden = true;
      status.textContent = '';
      status.appendChild(Y.loading());
      call('GET', contactPath(contact) + '/audit', { query: { cursor: cursor, limit: PAGE } }).then(function (trail) {
        status.textContent = '';
        (trail.entries || []).forEach(function (entry) {
          list.appendChild(h('div', { className: 'weui-cell ws-entry', 'data-action': entry.action },
            h('div', { className: 'weui-cell__bd' },
              h('p', { text: entry.actor + ' ' + (ACTIONS[entry.action] || entry.action) }),
              h('p', { className: 'ws-sub', text: describeChange(entry) })),
            h('div', { className: 'weui-cell__ft ws-time', text: whenText(entry.at) })));
        });
        cursor = trail.nextCursor || null;
        more.hidden = !cursor;
        if (!list.children.length) status.appendChild(Y.notice('empty', '还没有动态', '这个联系人的修改、共享和账号变化会记录在这里。'));
      }, function (error) { status.textContent = ''; status.appendChild(inlineError(error, next)); });
    }
    body.appendChild(list);
    body.appendChild(status);
    body.appendChild(more);
    next();
  }

  /* ---- adding contacts ---- */

  function addView(method) {
    if (method === 'manual') return addManualView();
    if (method === 'wechat') return addWeChatView();
    if (method === 'organisation') return addOrganisationView();
    notFoundView();
  }

  /* The organisations a contact may be filed under, by dimension (one request per dimension). */
  function organisationSelect() {
    var select = h('select', { className: 'weui-select', name: 'organisationId', id: 'f-organisationId' }, h('option', { value: '', text: '暂不归入组织' }));
    call('GET', '/api/directory/nodes', { query: { limit: 50 } }).then(function (top) {
      return Promise.all((top.nodes || []).filter(function (n) { return !n.synced; }).map(function (dimension) {
        return call('GET', '/api/directory/nodes/' + enc(dimension.nodeId) + '/children', { query: { limit: 100 } }).then(function (children) {
          var organisations = (children.nodes || []).filter(function (n) { return n.kind === 'organisation'; });
          if (organisations.length) {
            select.appendChild(h('optgroup', { label: dimension.name }, organisations.map(function (o) {
              return h('option', { value: o.nodeId, text: o.name });
            })));
          }
        });
      }));
    }).catch(function () { /* the contact can still be added without an organisation */ });
    return select;
  }

  function addManualView() {
    var inputs = {
      name: input('name', { maxlength: 64, required: true, autocomplete: 'off' }),
      mobile: input('mobile', { type: 'tel', maxlength: 20 }),
      email: input('email', { type: 'email', maxlength: 254 }),
      organisationId: organisationSelect(),
      position: input('position', { maxlength: 64 }),
      remark: h('textarea', { className: 'weui-textarea', name: 'remark', id: 'f-remark', rows: 3, maxlength: 500 })
    };
    var form = h('form', { className: 'ws-form', id: 'create-form', novalidate: true },
      h('div', { className: 'weui-cells weui-cells_form' }, formRow('姓名', inputs.name, '必填'), formRow('手机号', inputs.mobile),
        formRow('邮箱', inputs.email), formRow('组织', inputs.organisationId), formRow('职位', inputs.position), formRow('备注', inputs.remark)),
      h('p', { className: 'muted ws-pad', text: '新建的联系人没有外部账号；需要时在联系人的「账号信息」中申请开通。' }),
      h('div', { className: 'ws-buttons' }, h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', text: '创建联系人' })));
    Y.bindForm(form, function () {
      var body = {};
      Object.keys(inputs).forEach(function (key) { var value = inputs[key].value.trim(); if (value) body[key] = value; });
      if (!body.name) throw new Y.ApiError(400, 'invalid_name', '');
      return call('POST', '/api/directory/contacts', { body: body }).then(function (contact) {
        go('/directory/contacts/' + enc(contact.contactId));
      });
    });
    page(header('新建联系人', '/directory/contacts'), form);
  }

  /* Blob → data: URL, the only image source the page's policy allows besides its own origin. */
  function dataUrl(blob) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = reject;
      reader.readAsDataURL(blob);
    });
  }

  function addWeChatView() {
    var note = input('note', { maxlength: 200, placeholder: '例如：展会上认识的（选填，对方看不到）' });
    var result = h('div', { id: 'invitation-result' });
    var mine = h('div', { id: 'my-invitations' });
    var form = h('form', { className: 'ws-form', id: 'wechat-form', novalidate: true },
      h('p', { className: 'muted ws-pad', text: '生成邀请链接或二维码，发给微信好友。对方打开后填写信息，即成为您的外部联系人。' }),
      h('div', { className: 'weui-cells weui-cells_form' }, formRow('附言', note)),
      h('div', { className: 'ws-buttons' }, h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', text: '生成邀请' })));
    Y.bindForm(form, function () {
      var body = note.value.trim() ? { note: note.value.trim() } : {};
      return call('POST', '/api/directory/invitations', { body: body }).then(function (invitation) {
        showInvitation(invitation);
        loadMine();
      });
    });
    function showInvitation(invitation) {
      var field = h('input', { className: 'weui-input ws-link', id: 'invitation-link', readonly: true, value: invitation.link });
      var image = h('img', { className: 'ws-qr', id: 'invitation-qr', alt: '邀请二维码', width: 200, height: 200 });
      result.textContent = '';
      result.appendChild(h('div', { className: 'card ws-invitation' },
        h('h2', { text: '邀请已生成' }),
        h('p', { className: 'muted', text: '有效期至 ' + whenText(invitation.expiresAt) + '。可以复制链接发给对方，或让对方扫描二维码（长按可保存）。' }),
        h('div', { className: 'ws-inline' }, field, copier(field)), image));
      call('GET', invitation.qrCodeUrl, { binary: true }).then(dataUrl).then(function (url) { image.src = url; }, function () {
        image.replaceWith(h('p', { className: 'form-message error', text: '二维码暂时无法显示，请复制链接发送。' }));
      });
    }
    function loadMine() {
      call('GET', '/api/directory/invitations', { query: { limit: 10 } }).then(function (body) {
        mine.textContent = '';
        var items = body.invitations || [];
        if (!items.length) return;
        mine.appendChild(h('div', { className: 'weui-cells__title', text: '我发出的邀请' }));
        mine.appendChild(cells(items.map(function (item) {
          var label = INVITATION[item.status] || item.status;
          return h('div', { className: 'weui-cell', 'data-invitation': item.invitationId },
            h('div', { className: 'weui-cell__bd' }, h('p', { text: item.note || '（无附言）' }), h('p', { className: 'ws-sub', text: whenText(item.createdAt) })),
            h('div', { className: 'weui-cell__ft ws-inline' }, h('span', { text: label }),
              item.status === 'accepted' && item.contactId ? link('/directory/contacts/' + enc(item.contactId), null, null, '查看') : null,
              item.status === 'open' ? button('撤回', 'default', function () {
                call('DELETE', '/api/directory/invitations/' + enc(item.invitationId)).then(loadMine, function (error) {
                  mine.appendChild(h('p', { className: 'form-message error', role: 'alert', text: Y.describe(error) }));
                });
              }, { className: 'weui-btn weui-btn_default weui-btn_mini' }) : null));
        })));
      }, function () { /* the list is a convenience: the form works without it */ });
    }
    page(header('邀请微信好友', '/directory/contacts'), form, result, mine);
    loadMine();
  }

  function addOrganisationView() {
    var organisation = input('organisation', { maxlength: 100, placeholder: '对方企业的名称或简称', autocomplete: 'organization' });
    var by = h('select', { className: 'weui-select', name: 'by', id: 'f-by' },
      h('option', { value: 'name', text: '姓名' }), h('option', { value: 'mobile', text: '手机号' }), h('option', { value: 'email', text: '邮箱' }));
    var value = input('value', { maxlength: 254, placeholder: '对方的完整姓名、手机号或邮箱' });
    var note = input('note', { maxlength: 200, placeholder: '附言（选填，对方可以看到）' });
    var results = h('div', { id: 'org-results' });
    var form = h('form', { className: 'ws-form', id: 'org-search-form', novalidate: true },
      h('p', { className: 'muted ws-pad', text: '找到另一个使用云桥的组织的成员，邀请对方互加为外部联系人。' }),
      h('div', { className: 'weui-cells weui-cells_form' }, formRow('组织名称', organisation), formRow('查找方式', by), formRow('查找内容', value)),
      h('div', { className: 'ws-buttons' }, h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', text: '查找' })));
    Y.bindForm(form, function () {
      var terms = { organisation: organisation.value.trim() };
      terms[by.value] = value.value.trim();
      if (!terms.organisation || !terms[by.value]) throw new Y.ApiError(400, 'search_terms_required', '');
      results.textContent = '';
      return call('POST', '/api/directory/org-members/search', { body: terms }).then(function (body) {
        results.appendChild(h('div', { className: 'weui-cells__title', text: '查找结果' }));
        results.appendChild(h('div', { className: 'weui-cells weui-cells_form' }, formRow('附言', note)));
        results.appendChild(cells((body.results || []).map(function (found) {
          var outcome = h('span');
          var invite = button('邀请', 'primary', function () {
            invite.disabled = true;
            var request = { candidate: found.candidate };
            if (note.value.trim()) request.note = note.value.trim();
            call('POST', '/api/directory/org-invitations', { body: request }).then(function () {
              invite.replaceWith(h('span', { className: 'ws-ok', text: '已发送邀请' }));
            }, function (error) {
              invite.disabled = false;
              outcome.className = 'form-message error';
              outcome.textContent = Y.describe(error);
            });
          }, { className: 'weui-btn weui-btn_primary weui-btn_mini' });
          return h('div', { className: 'weui-cell', 'data-candidate': found.name },
            h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: found.name }), h('p', { className: 'ws-sub', text: found.organisation }), outcome),
            h('div', { className: 'weui-cell__ft' }, invite));
        }), { id: 'candidates' }));
      });
    });
    page(header('从其他组织添加', '/directory/contacts'), form, results,
      h('p', { className: 'ws-pad' }, link('/directory/org-invitations', null, null, '查看收到和发出的组织邀请 ›')));
  }

  /* ---- invitations between organisations ---- */

  function orgInvitationsView() {
    var incoming = h('div', { id: 'incoming' }, Y.loading());
    var outgoing = h('div', { id: 'outgoing' });
    function person(side) { return (side.name || '') + (side.organisation ? '（' + side.organisation + '）' : ''); }
    function load() {
      Promise.all([call('GET', '/api/directory/org-invitations', { query: { direction: 'incoming', limit: 50 } }),
                   call('GET', '/api/directory/org-invitations', { query: { direction: 'outgoing', limit: 50 } })]).then(function (both) {
        incoming.textContent = '';
        outgoing.textContent = '';
        var received = both[0].invitations || [];
        incoming.appendChild(h('div', { className: 'weui-cells__title', text: '收到的邀请' }));
        incoming.appendChild(received.length ? cells(received.map(function (item) {
          var ft = h('div', { className: 'weui-cell__ft ws-inline' });
          var message = h('p', { className: 'form-message', role: 'alert' });
          if (item.status === 'pending') {
            var decide = function (verb) {
              return function () {
                Array.prototype.forEach.call(ft.querySelectorAll('button'), function (b) { b.disabled = true; });
                call('POST', '/api/directory/org-invitations/' + enc(item.invitationId) + '/' + verb, { body: {} }).then(load, function (error) {
                  Array.prototype.forEach.call(ft.querySelectorAll('button'), function (b) { b.disabled = false; });
                  message.className = 'form-message error';
                  message.textContent = Y.describe(error);
                });
              };
            };
            ft.appendChild(button('接受', 'primary', decide('accept'), { className: 'weui-btn weui-btn_primary weui-btn_mini', 'data-accept': item.invitationId }));
            ft.appendChild(button('拒绝', 'default', decide('decline'), { className: 'weui-btn weui-btn_default weui-btn_mini' }));
          } else {
            ft.appendChild(h('span', { text: INVITATION[item.status] || item.status }));
            if (item.contactId) ft.appendChild(link('/directory/contacts/' + enc(item.contactId), null, null, '查看'));
          }
          return h('div', { className: 'weui-cell', 'data-invitation': item.invitationId },
            h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: person(item.inviter) + ' 邀请你互加为外部联系人' }),
              item.note ? h('p', { className: 'ws-sub', text: '附言：' + item.note }) : null,
              h('p', { className: 'ws-sub', text: whenText(item.createdAt) }), message), ft);
        })) : h('p', { className: 'muted ws-pad', text: '没有收到邀请。' }));
        var sent = both[1].invitations || [];
        outgoing.appendChild(h('div', { className: 'weui-cells__title', text: '发出的邀请' }));
        outgoing.appendChild(sent.length ? cells(sent.map(function (item) {
          return h('div', { className: 'weui-cell', 'data-invitation': item.invitationId },
            h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: person(item.invitee) }),
              h('p', { className: 'ws-sub', text: whenText(item.createdAt) })),
            h('div', { className: 'weui-cell__ft ws-inline' }, h('span', { text: INVITATION[item.status] || item.status }),
              item.contactId ? link('/directory/contacts/' + enc(item.contactId), null, null, '查看') : null));
        })) : h('p', { className: 'muted ws-pad', text: '还没有发出邀请。' }));
      }, function (error) {
        incoming.textContent = '';
        incoming.appendChild(inlineError(error, load));
      });
    }
    page(header('组织邀请'), nav('/directory/org-invitations'), incoming, outgoing,
      h('p', { className: 'ws-pad' }, link('/directory/add/organisation', null, null, '从其他组织添加 ›')));
    load();
  }

  /* ---- 外部账号开通申请 ---- */

  function applicationsView() {
    var approver = approverOf();
    var boxes = (approver ? [{ key: 'pending', label: '待审批', query: { status: 'pending' } },
                             { key: 'approved', label: '已通过', query: { status: 'approved' } },
                             { key: 'rejected', label: '已驳回', query: { status: 'rejected' } }] : [])
      .concat([{ key: 'mine', label: '我的申请', query: { applicant: me().userId } }]);
    var wanted = new URLSearchParams(location.search).get('box');
    var box = boxes.filter(function (b) { return b.key === wanted; })[0] || boxes[0];
    var cursor = null;
    var list = cells([], { id: 'applications' });
    var status = h('div');
    var more = button('加载更多', 'default', next, { hidden: true });
    var tabs = h('div', { className: 'weui-navbar ws-tabs', role: 'tablist' }, boxes.map(function (b) {
      return h('button', { type: 'button', role: 'tab', className: 'weui-navbar__item' + (b.key === box.key ? ' weui-bar__item_on' : ''),
                           'aria-selected': b.key === box.key ? 'true' : 'false', 'data-box': b.key, text: b.label,
                           onclick: function () { go('/admin/account-applications', { box: b.key }, true); } });
    }));
    function next() {
      more.hidden = true;
      status.textContent = '';
      status.appendChild(Y.loading());
      call('GET', '/api/account-applications', { query: Object.assign({ cursor: cursor, limit: PAGE }, box.query) }).then(function (body) {
        status.textContent = '';
        (body.items || []).forEach(function (item) {
          list.appendChild(link('/admin/account-applications/' + enc(item.applicationId), null,
            { className: 'weui-cell weui-cell_access', 'data-application': item.applicationId },
            h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: item.contactName }),
              h('p', { className: 'ws-sub', text: '申请人 ' + (item.applicant.name || item.applicant.userId) + ' · ' + whenText(item.appliedAt) })),
            h('div', { className: 'weui-cell__ft' }, h('span', { className: 'status status-' + item.status, text: item.statusLabel }))));
        });
        cursor = body.nextCursor || null;
        more.hidden = !cursor;
        if (!list.children.length) {
          status.appendChild(Y.notice('empty', box.key === 'pending' ? '没有待审批的申请' : '这里还没有申请',
            box.key === 'mine' ? '在联系人的「账号信息」中可以申请开通外部账号。' : '成员申请为外部联系人开通账号后，会显示在这里。'));
        }
      }, function (error) { status.textContent = ''; status.appendChild(inlineError(error, next)); });
    }
    page(header('外部账号开通申请'), nav('/admin/account-applications'), tabs, list, status, more);
    next();
  }

  function applicationView(applicationId) {
    var path = '/api/account-applications/' + enc(applicationId);
    page(header('开通申请', '/admin/account-applications'), Y.loading());
    call('GET', path).then(show, function (error) {
      if (error.handled) return;
      if (error.status === 404) {
        return page(header('开通申请', '/admin/account-applications'), Y.notice('empty', '没有找到这个申请', Y.describe(error),
          { label: '查看全部申请', run: function () { go('/admin/account-applications'); } }));
      }
      failed('开通申请', error, function () { applicationView(applicationId); });
    });

    function show(application) {
      var decision = application.decision;
      var account = application.account;
      var rows = [
        row('联系人', application.contactName), row('申请人', application.applicant.name || application.applicant.userId),
        row('申请时间', whenText(application.appliedAt)), row('备注', application.remark),
        row('状态', application.statusLabel, { id: 'application-status', 'data-status': application.status })
      ];
      if (decision) {
        rows.push(row(application.status === 'rejected' ? '驳回人' : '审批人', decision.name || decision.userId));
        rows.push(row('处理时间', whenText(decision.at)));
        if (decision.reason) rows.push(row('驳回原因', decision.reason, { id: 'application-reason' }));
      }
      if (account) rows.push(row('外部账号', account.accountName, { id: 'application-account' }));
      var parts = [cells(rows, { id: 'application' }),
        h('p', { className: 'ws-pad' }, link('/directory/contacts/' + enc(application.contactId), null, { id: 'open-contact' }, '查看联系人 ›'))];
      if (account && account.activationUrl) {
        var field = h('input', { className: 'weui-input ws-link', id: 'activation-link', readonly: true, value: account.activationUrl });
        parts.push(h('div', { className: 'card', id: 'activation' }, h('h2', { text: '激活链接' }),
          h('p', { className: 'muted', text: '请把账号和激活链接交给联系人，对方打开后设置密码即可登录「与我协作」。' +
            (account.activationExpiresAt ? '有效期至 ' + whenText(account.activationExpiresAt) + '。' : '') }),
          h('div', { className: 'ws-inline' }, field, copier(field))));
      }
      var pendingNow = application.status === 'pending' || (application.status === 'approving' && application.openingError);
      if (pendingNow && application.applicant.userId === me().userId) {
        parts.push(h('p', { className: 'form-note', id: 'own-application', text: '这是您提交的申请，需由其他审批人处理。' }));
      } else if (pendingNow && approverOf(application.dimensionId)) {
        parts.push(decideForms(application));
      }
      page(header('开通申请', '/admin/account-applications', application.contactName), parts);
    }

    function decideForms(application) {
      var approve = h('form', { className: 'ws-form', id: 'approve-form', novalidate: true },
        h('div', { className: 'ws-buttons' }, h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', text: '通过并开通账号' })));
      Y.bindForm(approve, function () { return call('POST', path + '/approve', { body: {} }).then(show); });
      var reason = h('textarea', { className: 'weui-textarea', name: 'reason', id: 'f-reason', rows: 3, maxlength: 500, placeholder: '申请人会收到这条原因' });
      var reject = h('form', { className: 'ws-form', id: 'reject-form', novalidate: true },
        h('div', { className: 'weui-cells__title', text: '驳回' }),
        h('div', { className: 'weui-cells weui-cells_form' }, formRow('驳回原因', reason)),
        h('div', { className: 'ws-buttons' }, h('button', { type: 'submit', className: 'weui-btn weui-btn_warn', text: '驳回' })));
      Y.bindForm(reject, function () {
        if (!reason.value.trim()) throw new Y.ApiError(400, 'invalid_reason', '');
        return call('POST', path + '/reject', { body: { reason: reason.value.trim() } }).then(show);
      });
      return h('div', { id: 'decide' }, approve, reject);
    }
  }

  /* ---- routing ---- */

  function notFoundView() {
    page(header('外部互联', '/directory/contacts'), Y.notice('empty', '页面不存在', '这个地址没有对应的页面。',
      { label: '返回外部互联', run: function () { go('/directory/contacts'); } }));
  }

  function route() {
    if (!token()) return signInView();
    var path = location.pathname.slice(Y.base.length);
    var params = new URLSearchParams(location.search);
    var match;
    function part(value) { try { return decodeURIComponent(value); } catch (e) { return value; } }
    if (path === '/directory/contacts') return listView();
    if ((match = /^\/directory\/contacts\/([^/]+)$/.exec(path))) return cardView(part(match[1]), params.get('tab'));
    if ((match = /^\/directory\/add\/([^/]+)$/.exec(path))) return addView(match[1]);
    if (path === '/directory/org-invitations') return orgInvitationsView();
    if (path === '/admin/account-applications') return applicationsView();
    if ((match = /^\/admin\/account-applications\/([^/]+)$/.exec(path))) return applicationView(part(match[1]));
    if (window.YQW.route && window.YQW.route(path, params)) return;
    notFoundView();
  }

  function start() {
    if (!/^[A-Za-z0-9]{1,64}$/.test(tenantKey)) {
      return page(header('外部互联'), Y.notice('error', '链接不完整', '链接中缺少团队识别码（tenantKey）。请从企业微信工作台或消息卡片重新打开。'));
    }
    window.addEventListener('popstate', route);
    var code = Y.query.get('code');
    if (code && !token()) return exchange(code, Y.query.get('state') || '');
    if (code && (Y.query.get('state') || '').indexOf('memberwechat') === 0) return bindWechat(code, Y.query.get('state'));
    if (code) history.replaceState(null, '', returnAddress().slice(location.origin.length));
    if (!token()) return route();
    /* Roles may have changed since sign-in: ask once per visit who the member is now. */
    call('GET', '/api/auth/session').then(function (session) { remember(session.member); route(); }, function (error) {
      if (!error.handled) route();
    });
  }

  /* What the admin console's script (admin.js, loaded after this one on its pages) builds its views with. */
  window.YQW = {
    tenantKey: tenantKey, call: call, page: page, header: header, nav: nav, go: go, link: link, href: href,
    failed: failed, inlineError: inlineError, cells: cells, row: row, button: button, input: input, formRow: formRow,
    copier: copier, enc: enc, roles: roles, me: me, route: null, sections: [], cardLinks: []
  };

  /* Deferred scripts run in order before DOMContentLoaded: a page's admin.js has registered its views by then. */
  document.addEventListener('DOMContentLoaded', start);
})();
