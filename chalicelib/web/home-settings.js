/* 与我协作 · 设置: the contact's own settings, added to the home page (home.js) through window.YQH.
 *   #/settings   the account name, change password, own profile, bind / unbind WeChat, the apps open to them
 *   #/forgot     a forgotten password: reset through the WeChat bound to the account, or ask the contact person
 * Binding and resetting are official-account OAuth round trips begun here (the API sets the state cookie); WeChat
 * sends the browser back to the home with ?code=&state=bind… | reset…, which oauthReturn takes. */
(function () {
  'use strict';
  var Y = window.YQ;
  var H = window.YQH;
  var h = Y.h;
  var MESSAGES = {
    wechat_not_configured: '该团队还没有接入微信公众号，暂时不能通过微信绑定或找回密码。',
    wechat_in_use: '这个微信已经绑定了本团队的另一位联系人，不能再绑定到您的账号。',
    wechat_bound_already: '您的账号已绑定了另一个微信，请先解绑再绑定新的微信。',
    wechat_not_bound: '这个微信没有绑定本团队的账号。请联系您的对接人，由其团队管理员为您重置密码。',
    unionid_unavailable: '微信没有提供您的身份标识（公众号尚未关联微信开放平台），暂时无法绑定，请联系您的对接人。',
    wechat_from_wecom: '您的微信来自对方企业微信的客户资料，会随同步保留，不能在这里解绑。',
    password_required: '您的账号还没有设置密码，解绑微信后将无法登录。请先请对接人为您开通账号。',
    no_password: '您是通过微信或企业微信登录的，还没有可修改的密码。',
    invalid_state: '这次微信授权不是从这个页面发起的，或已超过 10 分钟，请重新操作。',
    oauth_failed: '微信授权未完成或已过期，请重新操作。',
    contact_changed: '您的资料刚被修改过，请刷新页面后再试。',
    field_synced: '姓名和职位来自对方企业微信的客户资料，会随同步更新，不能在这里修改。'
  };
  var say = function (error) { return MESSAGES[error && error.code] || Y.describe(error); };
  /* A sentence to show once on the next settings view (after a round trip to WeChat). */
  var flash = null;

  function card(id, title) {
    var rest = Array.prototype.slice.call(arguments, 2);
    return h('section', { className: 'card settings-card', id: id }, h('h2', { text: title }), rest);
  }

  function row(label, value) {
    return [h('dt', { text: label }), h('dd', { text: value })];
  }

  /* ---- #/settings ---- */

  function settingsView() {
    Y.show(H.header('设置', '#/'), Y.loading());
    H.call('GET', '/api/external/me').then(render, function (error) { H.failed(error, settingsView); });
  }

  function render(me) {
    var note = flash;
    flash = null;
    var contact = me.contact || {};
    Y.show(H.header('设置', '#/'),
      note ? h('p', { className: 'form-note settings-flash', role: 'status', text: note }) : null,
      accountCard(me), passwordCard(me), profileCard(contact), wechatCard(me), appsCard(me.apps || []),
      h('button', { type: 'button', className: 'btn ghost wide', id: 'settings-sign-out', onclick: H.signOut, text: '退出登录' }));
  }

  function accountCard(me) {
    return card('account', '账号',
      h('dl', { className: 'values' },
        row('账号名', me.accountName || '未开通（您通过微信或企业微信登录）'),
        row('所属团队', (me.tenant && me.tenant.name) || H.tenantName()),
        row('登录密码', me.passwordSet ? '已设置' : '未设置')));
  }

  function passwordCard(me) {
    if (!me.passwordSet) return null;
    var form = h('form', { className: 'form', id: 'settings-password-form', novalidate: true });
    var current = h('input', { name: 'currentPassword', type: 'password', autocomplete: 'current-password', required: true });
    form.appendChild(Y.field('当前密码', current));
    var fresh = H.passwordInputs(form, '新密码');
    form.appendChild(h('button', { type: 'submit', className: 'btn primary', text: '修改密码' }));
    var done = Y.bindFormWith(MESSAGES, form, function () {
      if (!current.value) throw new Y.ApiError(400, 'missing', '请输入当前密码。');
      return H.call('POST', '/api/external/me/password', {
        body: { currentPassword: current.value, newPassword: fresh() }
      }).then(function (answer) {
        form.reset();
        done('密码已修改。' + (answer.otherSessionsEnded ? '其他设备上的登录已退出。' : ''));
      });
    });
    return card('password', '修改密码', form);
  }

  function profileCard(contact) {
    var inputs = {
      name: h('input', { name: 'name', autocomplete: 'name', maxlength: 64, value: contact.name || '' }),
      mobile: h('input', { name: 'mobile', type: 'tel', autocomplete: 'tel', maxlength: 20, value: contact.mobile || '' }),
      email: h('input', { name: 'email', type: 'email', autocomplete: 'email', maxlength: 254, value: contact.email || '' }),
      position: h('input', { name: 'position', autocomplete: 'organization-title', maxlength: 64, value: contact.position || '' })
    };
    var form = h('form', { className: 'form', id: 'profile-form', novalidate: true },
      Y.field('姓名', inputs.name), Y.field('手机号', inputs.mobile), Y.field('邮箱', inputs.email),
      Y.field('职位', inputs.position), h('button', { type: 'submit', className: 'btn primary', text: '保存资料' }));
    var done = Y.bindFormWith(MESSAGES, form, function () {
      var changes = {};
      Object.keys(inputs).forEach(function (key) {
        var value = inputs[key].value.trim();
        if (value !== (contact[key] || '')) changes[key] = value || null;
      });
      if (changes.name === null) throw new Y.ApiError(400, 'missing', '请填写姓名。');
      if (!Object.keys(changes).length) throw new Y.ApiError(400, 'unchanged', '没有需要保存的修改。');
      return H.call('PATCH', '/api/external/me', { body: changes }).then(function (me) {
        contact = me.contact || contact;
        done('资料已保存。');
      });
    });
    return card('profile', '个人资料', contact.orgName ? h('p', { className: 'muted settings-org', text: '所属组织：' + contact.orgName }) : null, form);
  }

  function wechatCard(me) {
    var wechat = me.wechat || {};
    var line = h('p', { className: 'form-message', role: 'alert' });
    function fail(error) {
      if (error.handled) return;
      line.textContent = say(error);
      line.className = 'form-message error';
    }
    var status = h('p', { className: 'settings-status', id: 'wechat-status',
      text: wechat.bound ? '已绑定微信：在微信中打开「与我协作」即可直接进入。' : '未绑定微信。' });
    var actions = [];
    if (wechat.bound && wechat.fromWeCom) {
      actions.push(h('p', { className: 'muted', text: '您的微信来自对方企业微信的客户资料，无需另行绑定。' }));
    } else if (wechat.bound) {
      var confirm = h('button', { type: 'button', className: 'btn ghost', id: 'wechat-unbind-confirm', hidden: true, text: '确认解绑' });
      var unbind = h('button', { type: 'button', className: 'btn link', id: 'wechat-unbind', text: '解绑微信' });
      unbind.addEventListener('click', function () {
        unbind.hidden = true;
        confirm.hidden = false;
        line.textContent = '解绑后不能再用这个微信登录，也不再收到微信消息；其他设备上的登录将退出。';
        line.className = 'form-message';
      });
      confirm.addEventListener('click', function () {
        confirm.disabled = true;
        H.call('DELETE', '/api/external/me/wechat').then(function () {
          flash = '已解绑微信。';
          settingsView();
        }, function (error) { confirm.disabled = false; fail(error); });
      });
      actions.push(unbind, confirm);
    } else if (!wechat.available) {
      actions.push(h('p', { className: 'muted', text: MESSAGES.wechat_not_configured }));
    } else {
      var bind = h('button', { type: 'button', className: 'btn primary', id: 'wechat-bind', text: '绑定微信' });
      bind.addEventListener('click', function () {
        bind.disabled = true;
        H.call('POST', '/api/external/me/wechat/authorize', { oauth: true }).then(function (answer) {
          var target = Y.safeUrl(answer.url);
          if (target) location.assign(target);
        }, function (error) { bind.disabled = false; fail(error); });
      });
      actions.push(h('p', { className: 'muted', text: '绑定后可在微信中直接进入，也可通过微信找回密码。' }), bind);
    }
    return card('wechat', '微信绑定', status, actions, line);
  }

  function appsCard(apps) {
    return card('apps', '可用应用',
      apps.length ? h('ul', { className: 'chips', id: 'apps-list' }, apps.map(function (app) {
        return h('li', { className: 'chip', 'data-app': app.key, text: app.label });
      })) : h('p', { className: 'muted', text: '对方团队暂未向外部联系人开放应用。' }));
  }

  /* The home shows the apps open to the contact under its tiles. */
  function homeBlocks(home) {
    var apps = home.apps || [];
    if (!apps.length) return null;
    return h('section', { className: 'block', id: 'home-apps' },
      h('div', { className: 'block-head' }, h('h2', { text: '可用应用' }), h('a', { href: '#/settings', text: '设置' })),
      h('ul', { className: 'chips' }, apps.map(function (app) {
        return h('li', { className: 'chip', 'data-app': app.key, text: app.label });
      })));
  }

  /* ---- #/forgot ---- */

  function forgotView() {
    Y.show(H.header('忘记密码', '#/'), Y.loading());
    Y.api('GET', '/api/external/password-reset/options', { query: { tenantKey: H.tenantKey }, oauth: true }).then(function (options) {
      var ask = card('reset-ask', '请对接人重置', h('p', { text: options.askContactPerson || '请联系您的对接人，由其团队管理员为您重置密码。' }),
        h('p', { className: 'muted', text: '对接人是在企业微信上与您联系、共享内容给您的人。管理员重置后，您会收到新的激活链接，用它设置新密码。' }));
      var target = Y.safeUrl(options.wechatAuthorizeUrl);
      var viaWeChat = null;
      if (target) {
        var go = h('button', { type: 'button', className: 'btn primary', id: 'reset-wechat', text: '通过微信验证身份' });
        go.addEventListener('click', function () { location.assign(target); });
        viaWeChat = card('reset-wechat-card', '通过已绑定的微信重置',
          h('p', { className: 'muted', text: '如果您的账号绑定过微信，在微信中验证身份后即可设置新密码。' }), go);
      }
      var note = target ? null : h('p', { className: 'form-note', text: '该团队还没有接入微信公众号，不能通过微信找回密码。' });
      Y.show(H.header('忘记密码', '#/'), note, viaWeChat, ask,
        h('a', { className: 'btn link', href: '#/', text: '返回登录' }));
    }, function (error) {
      Y.show(H.header('忘记密码', '#/'), Y.notice('error', '无法打开', say(error), { label: '重试', run: forgotView }));
    });
  }

  /* Back from WeChat with the reset's code: the bound WeChat proves the account; then the new password. */
  function resetReturn(code, state) {
    Y.show(H.header('忘记密码', '#/'), Y.loading('正在验证微信身份…'));
    Y.api('POST', '/api/external/password-reset/wechat', {
      body: { tenantKey: H.tenantKey, code: code, state: state }, oauth: true
    }).then(function (issued) {
      var token = /#activate=([^&]+)/.exec(issued.activationUrl || '');
      newPasswordView(issued.accountName, token ? decodeURIComponent(token[1]) : '');
    }, function (error) {
      Y.show(H.header('忘记密码', '#/'), Y.notice('error', '未能通过微信重置密码', say(error), { label: '返回登录', run: function () { H.go('#/', true); } }));
    });
  }

  function newPasswordView(accountName, activation) {
    var form = h('form', { className: 'card form', id: 'reset-form', novalidate: true }, h('h2', { text: '设置新密码' }),
      h('p', { className: 'form-note', text: '已通过微信验证身份。账号：' + accountName }));
    var password = H.passwordInputs(form, '新密码');
    form.appendChild(h('button', { type: 'submit', className: 'btn primary', text: '保存并登录' }));
    Y.bindFormWith(MESSAGES, form, function () {
      return Y.api('POST', '/api/external/activation', {
        body: { tenantKey: H.tenantKey, token: activation, password: password() }
      }).then(function (session) {
        H.signedIn(session);
        H.go('#/', true);
      });
    });
    Y.show(H.header('忘记密码', '#/'), form);
  }

  /* Back from WeChat with the binding's code. */
  function bindReturn(code, state) {
    if (!H.token()) return H.startSignIn('登录已过期，请重新登录后再绑定微信。');
    Y.show(H.header('设置', '#/'), Y.loading('正在绑定微信…'));
    H.call('POST', '/api/external/me/wechat', { body: { code: code, state: state }, oauth: true }).then(function () {
      flash = '微信已绑定：以后在微信中打开「与我协作」即可直接进入。';
      H.go('#/settings', true);
    }, function (error) {
      if (error.handled) return;
      flash = '微信未绑定：' + say(error);
      H.go('#/settings', true);
    });
  }

  function dropCode() {
    var params = new URLSearchParams(location.search);
    params.delete('code');
    params.delete('state');
    history.replaceState(null, '', location.pathname + '?' + params.toString() + location.hash);
  }

  H.oauthReturn = function (code, state) {
    var door = /^bind/.test(state) ? bindReturn : /^reset/.test(state) ? resetReturn : null;
    if (!door) return false;
    dropCode();
    door(code, state);
    return true;
  };

  H.routes.push(function (parts, signedIn) {
    if (parts[0] === 'forgot') {
      if (signedIn) return false;
      forgotView();
      return true;
    }
    if (parts[0] === 'settings' && signedIn) {
      settingsView();
      return true;
    }
    return false;
  });

  H.loginExtras = function () {
    return h('p', { className: 'login-extras' }, h('a', { href: '#/forgot', id: 'forgot-link', text: '忘记密码？' }));
  };

  H.blocks.push(homeBlocks);
})();
