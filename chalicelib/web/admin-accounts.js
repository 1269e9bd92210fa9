/* 账号安全 in the admin console (workspace.js signs in and routes; this adds the views):
 *   /admin/console/accounts[?status=&applicant=&approver=&from=&to=]   every account application with filters; each
 *                                      opens its page (/admin/account-applications/<id>, with its history)
 *   /admin/console/accounts?contact=<contactId>   one contact's account: 分配 (activation link or initial password),
 *                                      停用 / 启用, 新激活链接, and the admins' 重置 (password void at once)
 * The server decides who may do what; a refusal is shown as a sentence. */
(function () {
  'use strict';
  var Y = window.YQ;
  var W = window.YQW;
  var h = Y.h;
  var PATH = '/admin/console/accounts';
  var STATUSES = [['', '全部'], ['pending', '审批中'], ['approved', '已通过'], ['rejected', '已驳回']];
  var ACCOUNT = { awaiting_activation: '待激活', active: '正常', disabled: '已停用' };
  var MESSAGES = {
    account_not_found: '这个联系人还没有外部账号。', account_disabled: '账号已停用，请先启用。', account_changed: '账号刚被修改过，请刷新后再试。',
    account_admin_required: '只有管理员和外部互联维护人可以管理账号。', admin_required: '只有管理员可以重置账号。',
    invalid_status: '状态无效。', invalid_from: '开始日期格式应为 2026-01-31。', invalid_to: '结束日期格式应为 2026-01-31。',
    invalid_account_name: '账号名格式不正确。', account_name_taken: '这个账号名已被使用，请换一个。'
  };

  function describe(error) { return MESSAGES[error && error.code] || Y.describe(error); }

  function bind(form, submit) { return Y.bindFormWith(MESSAGES, form, submit); }

  function listView(params) {
    var filters = {};
    ['status', 'applicant', 'approver', 'from', 'to'].forEach(function (name) { filters[name] = params.get(name) || ''; });
    var status = h('select', { className: 'weui-select ws-select', id: 'f-status', name: 'status', 'aria-label': '状态' },
      STATUSES.map(function (s) { return h('option', { value: s[0], selected: s[0] === filters.status, text: s[1] }); }));
    var fields = {
      applicant: W.input('applicant', { placeholder: '申请人 userid', value: filters.applicant, maxlength: 64 }),
      approver: W.input('approver', { placeholder: '审批人 userid', value: filters.approver, maxlength: 64 }),
      from: W.input('from', { type: 'date', value: filters.from, 'aria-label': '开始日期' }),
      to: W.input('to', { type: 'date', value: filters.to, 'aria-label': '结束日期' })
    };
    var form = h('form', { className: 'adm-filters', id: 'filters' }, status, fields.applicant, fields.approver, fields.from, fields.to,
      h('button', { type: 'submit', className: 'weui-btn weui-btn_mini weui-btn_primary', text: '筛选' }));
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var wanted = { status: status.value };
      Object.keys(fields).forEach(function (name) { wanted[name] = fields[name].value.trim(); });
      W.go(PATH, wanted, true);
    });
    var list = h('div', { id: 'applications' });
    var more = W.button('加载更多', 'default', next, { id: 'load-more', hidden: true });
    var cursor = null;
    function next() {
      more.hidden = true;
      W.call('GET', '/api/account-applications', { query: Object.assign({ limit: 20, cursor: cursor }, filters) }).then(function (body) {
        var items = body.items || [];
        if (!items.length && !list.children.length) list.appendChild(Y.notice('empty', '没有符合条件的申请', '换个筛选条件试试。'));
        if (items.length) {
          list.appendChild(W.cells(items.map(function (item) {
            var decided = item.decision ? ' · ' + (item.decision.name || item.decision.userId) + ' ' + Y.when(item.decision.at) : '';
            return h('div', { className: 'weui-cell', 'data-application': item.applicationId },
              h('div', { className: 'weui-cell__bd' },
                W.link('/admin/account-applications/' + W.enc(item.applicationId), null, { className: 'ws-name' }, item.contactName),
                h('p', { className: 'ws-sub', text: '申请人 ' + (item.applicant.name || item.applicant.userId) + ' · ' + Y.when(item.appliedAt) + decided }),
                item.decision && item.decision.reason ? h('p', { className: 'ws-sub', text: '驳回原因：' + item.decision.reason }) : null),
              h('div', { className: 'weui-cell__ft ws-inline' }, h('span', { className: 'status-' + item.status, text: item.statusLabel || item.status }),
                W.link(PATH, { contact: item.contactId }, { className: 'weui-btn weui-btn_mini weui-btn_default', 'data-manage': item.contactId }, '账号')));
          })));
        }
        cursor = body.nextCursor || null;
        more.hidden = !cursor;
      }, function (error) {
        if (error.handled) return;
        list.appendChild(error.status === 403 ? Y.notice('empty', '没有权限', describe(error)) : W.inlineError(error, next));
      });
    }
    W.page(W.header('账号安全'), W.nav(PATH), form, list, more);
    next();
  }

  function accountView(contactId) {
    var body = h('div', { id: 'account' });
    W.page(W.header('账号安全', PATH), W.nav(PATH), body);
    body.appendChild(Y.loading());
    var base = '/api/directory/contacts/' + W.enc(contactId) + '/account';
    var result = h('div', { id: 'account-result' });
    function issued(answer) {
      result.textContent = '';
      if (!answer.activationUrl) return;
      var field = h('input', { className: 'weui-input ws-link', readonly: true, value: answer.activationUrl, id: 'activation-url' });
      result.appendChild(h('div', { className: 'weui-cells__title', text: '激活链接（请交给联系人，' + Y.when(answer.activationExpiresAt) + ' 前有效）' }));
      result.appendChild(W.cells([h('div', { className: 'weui-cell' }, h('div', { className: 'weui-cell__bd' }, field),
        h('div', { className: 'weui-cell__ft' }, W.copier(field)))]));
    }
    function action(id, label, kind, path, confirmText) {
      var form = h('form', { className: 'ws-buttons', id: id }, h('button', { type: 'submit', className: 'weui-btn weui-btn_' + kind, text: label }));
      bind(form, function () {
        if (confirmText && !window.confirm(confirmText)) return null;
        return W.call('POST', base + path, { body: {} }).then(function (answer) { load(answer); });
      });
      return form;
    }
    function load(answer) {
      Promise.all([W.call('GET', '/api/directory/contacts/' + W.enc(contactId)), W.call('GET', base).catch(function (error) {
        if (error.code === 'account_not_found') return null;
        throw error;
      })]).then(function (both) {
        var contact = both[0];
        var account = both[1];
        body.textContent = '';
        body.appendChild(W.cells([W.row('联系人', contact.name), W.row('组织', contact.orgName),
          W.row('账号', account ? account.accountName : '未开通'), W.row('状态', account ? ACCOUNT[account.status] || account.status : '—', { id: 'account-status' }),
          W.row('密码', account ? (account.passwordSet ? '已设置' + (account.mustChangePassword ? '（首次登录需修改）' : '') : '未设置') : '—')]));
        if (!account) {
          var password = W.input('initial-password', { type: 'password', autocomplete: 'new-password', placeholder: '留空则生成激活链接' });
          var assign = h('form', { className: 'ws-form', id: 'assign-form' }, W.cells([W.formRow('初始密码', password, '联系人首次登录时须修改')]),
            h('div', { className: 'ws-buttons' }, h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', text: '分配账号' })));
          bind(assign, function () {
            var request = password.value ? { delivery: 'password', password: password.value } : { delivery: 'activation' };
            return W.call('PUT', base, { body: request }).then(load);
          });
          body.appendChild(assign);
        } else if (account.status === 'disabled') {
          body.appendChild(action('enable-form', '启用账号', 'primary', '/enable'));
        } else {
          body.appendChild(action('activation-form', '生成新的激活链接', 'default', '/activation'));
          body.appendChild(action('reset-form', '重置（旧密码立即失效）', 'warn', '/reset', '重置后旧密码立即失效，联系人会被登出，需用新的激活链接设置密码。继续？'));
          body.appendChild(action('disable-form', '停用账号', 'default', '/disable', '停用后联系人会被登出，不能再登录。继续？'));
        }
        body.appendChild(result);
        if (answer) issued(answer);
      }, function (error) {
        if (error.handled) return;
        body.textContent = '';
        body.appendChild(error.status === 404 || error.status === 403 ? Y.notice('empty', '无法管理这个账号', describe(error)) : W.inlineError(error, load));
      });
    }
    load();
  }

  W.route = function (path, params) {
    if (path !== PATH) return false;
    if (params.get('contact')) accountView(params.get('contact'));
    else listView(params);
    return true;
  };
})();
