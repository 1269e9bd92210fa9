/* 接受邀请: a WeChat friend opens the invitation link a member sent, sees who invited them, and leaves their name
 * (and optionally mobile and email) to become that team's external contact. Where the team has a WeChat official
 * account, the page goes through its OAuth (inside WeChat at once, elsewhere when asked): WeChat sends the browser
 * back here with
 * ?code=&state=invite…, the code is exchanged for the visitor's signed WeChat identity, and accepting with it makes a
 * contact that carries that WeChat and is signed in at once: the page then opens 与我协作. */
(function () {
  'use strict';
  var Y = window.YQ;
  var h = Y.h;
  var tenantKey = (Y.query.get('tenantKey') || '').trim();
  var token = (Y.query.get('token') || '').trim();
  var tried = 'yq.invite.oauth.' + token.slice(-32);
  var inWeChat = /MicroMessenger/i.test(navigator.userAgent || '') && !/wxwork/i.test(navigator.userAgent || '');
  var MESSAGES = {
    already_contact: '您的微信已经是对方的外部联系人了，可以直接进入「与我协作」。',
    invalid_wechat_identity: '微信授权与这个邀请不符，请重新打开邀请链接。',
    wechat_identity_expired: '微信授权已过期（超过 30 分钟），请重新打开邀请链接。',
    invalid_state: '这次微信授权不是从这个页面发起的，或已超过 10 分钟，请重新授权。',
    oauth_failed: '微信授权未完成或已过期，请重新授权。'
  };

  function describe(error) { return MESSAGES[error && error.code] || Y.describe(error); }

  function header() {
    return h('header', { className: 'bar' }, h('h1', { className: 'bar-title', text: '接受邀请' }));
  }

  function homeHref() {
    return 'home?tenantKey=' + encodeURIComponent(tenantKey);
  }

  function refused(error, retry) {
    Y.show(header(), Y.notice('error', error.code === 'network' ? '网络不可用' : '无法打开邀请', describe(error),
      error.code === 'network' || error.status >= 500 ? { label: '重试', run: retry } : null));
  }

  function preview() {
    Y.show(header(), Y.loading());
    Y.api('GET', '/api/invitations/preview', { query: { tenantKey: tenantKey, token: token }, oauth: true }).then(function (invitation) {
      var target = Y.safeUrl(invitation.wechatAuthorizeUrl);
      if (target && inWeChat && !sessionStorage.getItem(tried)) {
        sessionStorage.setItem(tried, '1');
        location.replace(target);
        return;
      }
      acceptView(invitation, null, target);
    }, function (error) { refused(error, preview); });
  }

  /* Back from WeChat: exchange the code once, then drop it from the address. */
  function identify(code, state) {
    var params = new URLSearchParams(location.search);
    params.delete('code');
    params.delete('state');
    history.replaceState(null, '', location.pathname + '?' + params.toString());
    Y.show(header(), Y.loading('正在确认微信身份…'));
    Y.api('POST', '/api/invitations/wechat-identity', {
      body: { tenantKey: tenantKey, token: token, code: code, state: state }, oauth: true
    }).then(function (answer) {
      acceptView(answer, answer.wechat, null);
    }, function (error) {
      if (error.code === 'already_contact') {
        Y.show(header(), Y.notice('empty', '您已是对方的外部联系人', describe(error),
          { label: '进入与我协作', run: function () { location.assign(homeHref()); } }));
      } else if (/^(invalid_state|oauth_failed)$/.test(error.code)) {
        Y.show(header(), Y.notice('error', '微信授权未完成', describe(error),
          { label: '重新授权', run: function () { sessionStorage.removeItem(tried); preview(); } }));
      } else {
        refused(error, function () { identify(code, state); });
      }
    });
  }

  /* `wechatPage`: the official account's OAuth page, offered when the identity is not confirmed yet. */
  function acceptView(invitation, wechat, wechatPage) {
    var team = (invitation.tenant && invitation.tenant.name) || '';
    var inviter = (invitation.inviter && invitation.inviter.name) || '';
    var name = h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: 64 });
    var mobile = h('input', { name: 'mobile', type: 'tel', autocomplete: 'tel', maxlength: 20 });
    var email = h('input', { name: 'email', type: 'email', autocomplete: 'email', maxlength: 254 });
    var position = h('input', { name: 'position', autocomplete: 'organization-title', maxlength: 64 });
    var form = h('form', { className: 'card form', id: 'accept-form', novalidate: true },
      h('h2', { text: (inviter || '对方') + ' 邀请您成为' + (team ? '「' + team + '」的' : '') + '外部联系人' }),
      h('p', { className: 'form-note', text: wechat ? '已确认您的微信身份。填写信息并接受后，即可进入「与我协作」查看对方共享的内容。'
        : '填写您的信息后，对方可以在企业微信中与您协作、共享项目和资料。' }),
      wechatPage ? h('div', { className: 'invite-note' },
        h('p', { className: 'muted', text: '用微信确认身份后接受，即可直接进入「与我协作」；否则需等对方为您开通账号。' }),
        h('button', { type: 'button', className: 'btn ghost', id: 'wechat-identify', text: '用微信确认身份',
          onclick: function () { sessionStorage.setItem(tried, '1'); location.assign(wechatPage); } })) : null,
      Y.field('姓名', name, '必填'), Y.field('手机号', mobile), Y.field('邮箱', email), Y.field('职位', position),
      h('button', { type: 'submit', className: 'btn primary', text: wechat ? '接受邀请并进入' : '接受邀请' }));
    Y.bindFormWith(MESSAGES, form, function () {
      if (!name.value.trim()) throw new Y.ApiError(400, 'missing', '请填写姓名。');
      var body = { tenantKey: tenantKey, token: token, name: name.value.trim() };
      if (mobile.value.trim()) body.mobile = mobile.value.trim();
      if (email.value.trim()) body.email = email.value.trim();
      if (position.value.trim()) body.position = position.value.trim();
      if (wechat) body.wechat = wechat;
      return Y.api('POST', '/api/invitations/accept', { body: body }).then(function (accepted) {
        if (accepted.session && accepted.session.token) {
          sessionStorage.setItem('yq.token.' + tenantKey, accepted.session.token);
          Y.show(header(), Y.loading('已接受邀请，正在进入「与我协作」…'));
          location.replace(homeHref());
          return;
        }
        Y.show(header(), Y.notice('empty', '已接受邀请', (team ? '您已成为「' + team + '」的外部联系人。' : '您已成为对方的外部联系人。') +
          '对方为您开通账号后，您可以在「与我协作」中查看共享给您的内容。'));
      });
    });
    Y.show(header(), form);
  }

  var code = Y.query.get('code');
  if (!tenantKey || !token) {
    Y.show(header(), Y.notice('error', '邀请链接不完整', '链接缺少团队识别码或邀请凭证，请向邀请人重新索取链接。'));
  } else if (code) {
    identify(code, Y.query.get('state') || '');
  } else {
    preview();
  }
})();
