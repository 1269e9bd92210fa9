/* 接受邀请: a WeChat friend opens the invitation link a member sent, sees who invited them, and leaves their name
 * (and optionally mobile and email) to become that team's external contact. */
(function () {
  'use strict';
  var Y = window.YQ;
  var h = Y.h;
  var tenantKey = (Y.query.get('tenantKey') || '').trim();
  var token = (Y.query.get('token') || '').trim();

  function header() {
    return h('header', { className: 'bar' }, h('h1', { className: 'bar-title', text: '接受邀请' }));
  }

  function preview() {
    Y.show(header(), Y.loading());
    Y.api('GET', '/api/invitations/preview', { query: { tenantKey: tenantKey, token: token } }).then(acceptView, function (error) {
      Y.show(header(), Y.notice('error', error.code === 'network' ? '网络不可用' : '无法打开邀请', Y.describe(error),
        error.code === 'network' || error.status >= 500 ? { label: '重试', run: preview } : null));
    });
  }

  function acceptView(invitation) {
    var team = (invitation.tenant && invitation.tenant.name) || '';
    var inviter = (invitation.inviter && invitation.inviter.name) || '';
    var name = h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: 64 });
    var mobile = h('input', { name: 'mobile', type: 'tel', autocomplete: 'tel', maxlength: 20 });
    var email = h('input', { name: 'email', type: 'email', autocomplete: 'email', maxlength: 254 });
    var position = h('input', { name: 'position', autocomplete: 'organization-title', maxlength: 64 });
    var form = h('form', { className: 'card form', id: 'accept-form', novalidate: true },
      h('h2', { text: (inviter || '对方') + ' 邀请您成为' + (team ? '「' + team + '」的' : '') + '外部联系人' }),
      h('p', { className: 'form-note', text: '填写您的信息后，对方可以在企业微信中与您协作、共享项目和资料。' }),
      Y.field('姓名', name, '必填'), Y.field('手机号', mobile), Y.field('邮箱', email), Y.field('职位', position),
      h('button', { type: 'submit', className: 'btn primary', text: '接受邀请' }));
    Y.bindForm(form, function () {
      if (!name.value.trim()) throw new Y.ApiError(400, 'missing', '请填写姓名。');
      var body = { tenantKey: tenantKey, token: token, name: name.value.trim() };
      if (mobile.value.trim()) body.mobile = mobile.value.trim();
      if (email.value.trim()) body.email = email.value.trim();
      if (position.value.trim()) body.position = position.value.trim();
      return Y.api('POST', '/api/invitations/accept', { body: body }).then(function () {
        Y.show(header(), Y.notice('empty', '已接受邀请', (team ? '您已成为「' + team + '」的外部联系人。' : '您已成为对方的外部联系人。') +
          '对方共享内容后，您可以在「与我协作」中查看。'));
      });
    });
    Y.show(header(), form);
  }

  if (!tenantKey || !token) {
    Y.show(header(), Y.notice('error', '邀请链接不完整', '链接缺少团队识别码或邀请凭证，请向邀请人重新索取链接。'));
  } else {
    preview();
  }
})();
