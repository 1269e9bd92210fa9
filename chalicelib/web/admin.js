/* The admin console, inside the workspace shell (workspace.js signs the member in and routes; this adds the views):
 *   /admin/console/settings   设置: 自动同步, default security level, names, external apps, official account, public
 *                             address, the admin and 外部互联维护 lists, and the settings' change history
 *   /admin/console/wecom      企业微信: 同步 and the run history; the 与我协作 link runs (rerun, failed members and why)
 *                             and the manual link
 * The server decides who may do what; a refusal is shown as a sentence (common.js MESSAGES). */
(function () {
  'use strict';
  var Y = window.YQ;
  var W = window.YQW;
  var h = Y.h;
  var admin = '/api/admin/tenants/' + encodeURIComponent(W.tenantKey);
  var ROLES = [{ key: 'admin', label: '管理员' }, { key: 'directory_maintainer', label: '外部互联维护' }];
  var LABELS = {
    autoSyncCustomers: '自动同步企业微信客户', defaultSecurityLevel: '新联系人默认安全级别', customerDimensionName: '企业微信客户维度名称',
    chainDimensionName: '上下游维度名称', wechatDefaultOrgName: '微信客户默认组织', publicBaseUrl: '对外访问地址',
    externalApps: '外部用户可用应用', officialAccountAppId: '公众号 AppID', officialAccountTemplateId: '公众号模板',
    officialAccountSecret: '公众号密钥'
  };
  var RUN_STATUS = { running: '进行中', succeeded: '成功', partial: '部分成功', failed: '失败', abandoned: '已中止' };
  var TRIGGERS = { admin: '手动同步', schedule: '定时', settings: '开启自动同步', create_auth: '安装应用', change_chain: '上下游变更' };
  var LINK_TRIGGERS = { admin: '手动写入', schedule: '每日核对', create_auth: '安装应用', create_user: '新成员' };
  var LINK_STATE = { listing: '读取成员中', running: '进行中', done: '已完成', failed: '失败' };
  var MESSAGES = {
    admin_required: '只有管理员可以使用这里的功能。', sync_in_progress: '已有一次同步正在进行，请在下方记录中查看，结束后再试。',
    settings_changed: '设置刚被其他管理员修改过，请刷新后再保存。', public_base_url_placeholder: '对外访问地址不能是示例域名，请填写手机能访问到的真实地址。',
    invalid_publicBaseUrl: '对外访问地址应为 https:// 开头的地址（不带参数）。', invalid_defaultSecurityLevel: '默认安全级别应为 -999 到 0 之间的整数。',
    invalid_appId: '请填写正确的公众号 AppID（wx 开头）；设置密钥或模板前需先填写 AppID。', invalid_templateId: '模板 ID 只能包含字母、数字、- 和 _。',
    invalid_secret: '公众号密钥长度不正确。', last_admin_guard: '不能移除自己的管理员身份。', unknown_role: '未知的角色。',
    empty_settings: '没有需要保存的修改。', admin_not_configured: '这个团队还没有管理员，请联系运维人员指定。'
  };
  ['customerDimensionName', 'chainDimensionName', 'wechatDefaultOrgName'].forEach(function (field) {
    MESSAGES['invalid_' + field] = LABELS[field] + '应为 1 到 32 个字。';
  });

  function describe(error) { return MESSAGES[error && error.code] || Y.describe(error); }

  /* Y.bindForm, with the console's own sentences for the codes only it meets. */
  function bind(form, submit) { return Y.bindFormWith(MESSAGES, form, submit); }

  /* The console's page: the shell's header and navigation, then the views' blocks. */
  function shell(path, title) {
    W.page.apply(null, [W.header(title), W.nav(path)].concat(Array.prototype.slice.call(arguments, 2)));
  }

  function refused(path, title, error, retry) {
    if (error && error.handled) return;
    shell(path, title, error && error.status === 403 ? Y.notice('empty', '没有权限', describe(error))
      : W.inlineError(error, retry));
  }

  function section(title, id) {
    var body = h('div', { className: 'ws-pad' });
    return { node: h('section', { id: id }, h('div', { className: 'weui-cells__title', text: title }), body), body: body };
  }

  function checkbox(name, checked, label) {
    var box = h('input', { type: 'checkbox', name: name, id: 'f-' + name, checked: !!checked });
    return { box: box, node: h('label', { className: 'adm-check', 'for': box.id }, box, h('span', { text: label })) };
  }

  /* ---- 设置 ---- */

  function settingsView() {
    var path = '/admin/console/settings';
    shell(path, '设置', Y.loading());
    W.call('GET', admin + '/settings').then(function (settings) {
      var form = h('form', { className: 'ws-form', id: 'settings-form', novalidate: true });
      var auto = checkbox('autoSyncCustomers', settings.autoSyncCustomers, '自动同步企业微信客户（开启后立即同步一次）');
      var level = W.input('defaultSecurityLevel', { type: 'number', min: -999, max: 0, step: 1, value: String(settings.defaultSecurityLevel) });
      var names = {};
      ['customerDimensionName', 'chainDimensionName', 'wechatDefaultOrgName'].forEach(function (field) {
        names[field] = W.input(field, { value: settings[field] || '', maxlength: 32 });
      });
      var base = W.input('publicBaseUrl', { type: 'url', value: settings.publicBaseUrl || '', placeholder: settings.effectivePublicBaseUrl || 'https://' });
      var apps = settings.externalApps.map(function (app) { return Object.assign(checkbox('app-' + app.key, app.open, app.label), { key: app.key }); });
      var oa = settings.officialAccount || {};
      var appId = W.input('oaAppId', { value: oa.appId || '', placeholder: 'wx…', autocomplete: 'off' });
      var secret = W.input('oaSecret', { type: 'password', autocomplete: 'new-password', placeholder: oa.secretStored ? '已保存，留空则不修改' : '公众号 AppSecret' });
      var template = W.input('oaTemplateId', { value: oa.templateId || '', autocomplete: 'off' });

      function changes() {
        var body = {};
        if (auto.box.checked !== settings.autoSyncCustomers) body.autoSyncCustomers = auto.box.checked;
        var wanted = level.value.trim() === '' ? NaN : Number(level.value);
        if (wanted !== settings.defaultSecurityLevel) body.defaultSecurityLevel = isNaN(wanted) ? level.value : wanted;
        Object.keys(names).forEach(function (field) { if (names[field].value.trim() !== settings[field]) body[field] = names[field].value; });
        if (base.value.trim() !== (settings.publicBaseUrl || '')) body.publicBaseUrl = base.value.trim() || null;
        var open = apps.filter(function (a) { return a.box.checked; }).map(function (a) { return a.key; });
        var before = settings.externalApps.filter(function (a) { return a.open; }).map(function (a) { return a.key; });
        if (open.join() !== before.join()) body.externalApps = open;
        var account = {};
        if (appId.value.trim() !== (oa.appId || '')) account.appId = appId.value.trim() || null;
        if (template.value.trim() !== (oa.templateId || '')) account.templateId = template.value.trim() || null;
        if (secret.value) account.secret = secret.value;
        if (Object.keys(account).length) body.officialAccount = account;
        return body;
      }

      form.appendChild(h('div', { className: 'weui-cells__title', text: '客户同步' }));
      form.appendChild(W.cells([h('div', { className: 'weui-cell' }, auto.node)]));
      form.appendChild(h('div', { className: 'weui-cells__title', text: '组织架构' }));
      form.appendChild(W.cells([
        W.formRow('默认安全级别', level, '新建的联系人使用这个级别，-999 到 0'),
        W.formRow('企业微信客户维度', names.customerDimensionName),
        W.formRow('上下游维度', names.chainDimensionName),
        W.formRow('微信客户默认组织', names.wechatDefaultOrgName, '维度和组织名称在下次同步时更新')
      ], { className: 'weui-cells weui-cells_form' }));
      form.appendChild(h('div', { className: 'weui-cells__title', text: '外部用户可用应用' }));
      form.appendChild(W.cells([h('div', { className: 'weui-cell adm-apps', id: 'external-apps' }, apps.map(function (a) { return a.node; }))]));
      form.appendChild(h('div', { className: 'weui-cells__title', text: '公众号与访问地址' }));
      form.appendChild(W.cells([
        W.formRow('AppID', appId), W.formRow('AppSecret', secret, '保存在密钥管理服务中，不会再次显示'), W.formRow('模板 ID', template),
        W.formRow('对外访问地址', base, '留空则使用部署地址：' + (settings.effectivePublicBaseUrl || ''))
      ], { className: 'weui-cells weui-cells_form' }));
      form.appendChild(h('div', { className: 'ws-buttons' }, h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', id: 'save-settings', text: '保存' })));
      var say = bind(form, function () {
        var body = changes();
        if (!Object.keys(body).length) { say('没有需要保存的修改。'); return Promise.resolve(); }
        return W.call('PATCH', admin + '/settings', { body: body }).then(function (saved) {
          settings = saved;
          oa = saved.officialAccount || {};
          secret.value = '';
          secret.placeholder = oa.secretStored ? '已保存，留空则不修改' : '公众号 AppSecret';
          say(body.autoSyncCustomers === true ? '已保存。自动同步已开启，正在同步企业微信客户。' : '已保存，一分钟内全部生效。');
          loadHistory();
        });
      });

      /* "外部用户可用应用：关闭 文档；开放 客户" rather than two lists of keys. */
      function appChange(before, after) {
        var label = {};
        settings.externalApps.forEach(function (app) { label[app.key] = app.label; });
        function named(keys) { return keys.map(function (key) { return label[key] || key; }).join('、'); }
        var closed = before.filter(function (key) { return after.indexOf(key) < 0; });
        var opened = after.filter(function (key) { return before.indexOf(key) < 0; });
        return LABELS.externalApps + '：' + [closed.length ? '关闭 ' + named(closed) : '', opened.length ? '开放 ' + named(opened) : '']
          .filter(Boolean).join('；');
      }

      var roles = section('角色', 'roles');
      var history = section('变更记录', 'settings-history');
      function loadHistory() {
        history.body.textContent = '';
        W.call('GET', admin + '/settings/history', { query: { limit: 20 } }).then(function (trail) {
          var entries = trail.entries || [];
          if (!entries.length) return history.body.appendChild(h('p', { className: 'muted', text: '还没有修改记录。' }));
          history.body.appendChild(W.cells(entries.map(function (entry) {
            var lines = Object.keys(Object.assign({}, entry.before, entry.after)).map(function (key) {
              if (key === 'externalApps') return appChange(entry.before[key] || [], entry.after[key] || []);
              return (LABELS[key] || key) + '：' + text(entry.before[key]) + ' → ' + text(entry.after[key]);
            });
            return h('div', { className: 'weui-cell' }, h('div', { className: 'weui-cell__bd' },
              h('p', { className: 'ws-sub', text: Y.when(entry.at) + ' · ' + entry.actor }),
              lines.map(function (line) { return h('p', { className: 'adm-change', text: line }); })));
          })));
        }, function (error) { history.body.appendChild(W.inlineError(error, loadHistory)); });
      }
      roles.body.appendChild(h('div', null, ROLES.map(roleBlock)));
      shell(path, '设置', form, roles.node, history.node);
      loadHistory();
    }, function (error) { refused(path, '设置', error, settingsView); });
  }

  function text(value) {
    if (value === null || value === undefined || value === '') return '空';
    if (value === true) return '开启';
    if (value === false) return '关闭';
    if (Array.isArray(value)) return value.join('、') || '无';
    return String(value);
  }

  function roleBlock(role) {
    var list = h('div', { 'data-role': role.key });
    var who = W.input('role-' + role.key, { placeholder: '成员的企业微信账号（userid）', maxlength: 64, autocomplete: 'off' });
    var form = h('form', { className: 'ws-inline', 'data-role-form': role.key }, who,
      h('button', { type: 'submit', className: 'weui-btn weui-btn_mini weui-btn_primary', text: '添加' }));
    function load() {
      list.textContent = '';
      W.call('GET', '/api/directory/roles/' + W.enc(role.key) + '/members').then(function (answer) {
        var ids = answer.userIds || [];
        list.appendChild(ids.length ? W.cells(ids.map(function (userId) {
          return h('div', { className: 'weui-cell', 'data-holder': userId }, h('div', { className: 'weui-cell__bd', text: userId }),
            h('div', { className: 'weui-cell__ft' }, W.button('移除', 'default', function (event) {
              event.target.disabled = true;
              W.call('DELETE', '/api/directory/roles/' + W.enc(role.key) + '/members/' + W.enc(userId)).then(load, function (error) {
                event.target.disabled = false;
                list.insertBefore(h('p', { className: 'form-message error', role: 'alert', text: describe(error) }), list.firstChild);
              });
            }, { className: 'weui-btn weui-btn_default weui-btn_mini' })));
        })) : h('p', { className: 'muted', text: '暂无' }));
      }, function (error) { list.appendChild(W.inlineError(error, load)); });
    }
    bind(form, function () {
      var userId = who.value.trim();
      if (!userId) return Promise.reject(new Y.ApiError(400, 'member_not_found', ''));
      return W.call('PUT', '/api/directory/roles/' + W.enc(role.key) + '/members/' + W.enc(userId)).then(function () {
        who.value = '';
        load();
      });
    });
    load();
    return h('div', { className: 'adm-role' }, h('h3', { className: 'adm-role-title', text: role.label }), list, form);
  }

  /* ---- 企业微信 ---- */

  function wecomView() {
    var path = '/admin/console/wecom';
    var sync = section('客户同步', 'sync');
    var links = section('与我协作链接', 'profile-links');
    var runs = h('div', { id: 'sync-runs' });
    var syncForm = h('form', { className: 'ws-buttons', id: 'sync-form' },
      h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', id: 'sync-now', text: '立即同步' }));
    var saySync = bind(syncForm, function () {
      return W.call('POST', admin + '/sync').then(function () { saySync('已开始同步，结果见下方记录。'); loadRuns(); });
    });
    sync.body.appendChild(h('p', { className: 'muted', text: '从企业微信读取客户和上下游，写入外部互联。' }));
    sync.body.appendChild(syncForm);
    sync.body.appendChild(runs);

    function counts(run) {
      var c = (run.counts || {}).customers || {};
      var o = (run.counts || {}).organisations || {};
      return '客户：新增 ' + (c.added || 0) + '，更新 ' + (c.updated || 0) + '，未变 ' + (c.unchanged || 0) + '，停用 ' + (c.inactivated || 0) +
        (c.skipped_as_member ? '，跳过成员 ' + c.skipped_as_member : '') + '；组织：新增 ' + (o.added || 0) + '，更新 ' + (o.updated || 0);
    }

    function loadRuns() {
      runs.textContent = '';
      runs.appendChild(Y.loading());
      W.call('GET', admin + '/sync/runs', { query: { limit: 10 } }).then(function (answer) {
        runs.textContent = '';
        var list = answer.runs || [];
        if (!list.length) return runs.appendChild(h('p', { className: 'muted', text: '还没有同步记录。' }));
        runs.appendChild(W.cells(list.map(function (run) {
          return h('div', { className: 'weui-cell', 'data-run': run.runId }, h('div', { className: 'weui-cell__bd' },
            h('p', { className: 'ws-name', text: (TRIGGERS[run.trigger] || run.trigger) + ' · ' + (RUN_STATUS[run.status] || run.status) }),
            h('p', { className: 'ws-sub', text: Y.when(run.startedAt) + (run.finishedAt ? ' — ' + Y.when(run.finishedAt) : '') }),
            h('p', { className: 'ws-sub', text: counts(run) }),
            (run.errors || []).map(function (error) {
              return h('p', { className: 'adm-error', text: '错误（' + error.phase + '）：' + error.code + ' ' + error.message });
            })));
        })));
      }, function (error) { runs.textContent = ''; runs.appendChild(W.inlineError(error, loadRuns)); });
    }

    var progress = h('div', { id: 'link-progress' });
    var manual = h('div', { id: 'manual-link' });
    var linkForm = h('form', { className: 'ws-buttons', id: 'links-form' },
      h('button', { type: 'submit', className: 'weui-btn weui-btn_default', id: 'links-rerun', text: '重新写入全部成员' }));
    var sayLinks = bind(linkForm, function () {
      return W.call('POST', admin + '/profile-links/runs').then(function (run) { sayLinks('已开始写入。'); showProgress(run); });
    });
    links.body.appendChild(h('p', { className: 'muted', text: '在每位成员的企业微信对外资料中写入「与我协作」链接。' }));
    links.body.appendChild(linkForm);
    links.body.appendChild(progress);
    links.body.appendChild(manual);

    function showProgress(run) {
      progress.textContent = '';
      progress.appendChild(W.cells([
        W.row('最近一次', (LINK_TRIGGERS[run.trigger] || run.trigger) + ' · ' + (LINK_STATE[run.state] || run.state) + ' · ' + Y.when(run.startedAt)),
        W.row('已写入', String(run.linked), { 'data-count': 'linked' }),
        W.row('等待中', String(run.pending), { 'data-count': 'pending' }),
        W.row('失败', String(run.failed), { 'data-count': 'failed' })
      ].concat(run.error ? [h('p', { className: 'adm-error ws-pad', text: run.error })] : [])
        .concat((run.failedMembers || []).map(function (member) {
          return h('div', { className: 'weui-cell', 'data-failed': member.userId }, h('div', { className: 'weui-cell__bd' },
            h('p', { className: 'ws-name', text: member.userId }),
            h('p', { className: 'adm-error', text: (member.errcode ? '错误码 ' + member.errcode + '：' : '') + (member.message || '') + '（已尝试 ' + member.attempts + ' 次）' })));
        }))));
    }

    function loadLinks() {
      W.call('GET', admin + '/profile-links/runs', { query: { limit: 1 } }).then(function (answer) {
        var latest = (answer.runs || [])[0];
        if (!latest) return progress.appendChild(h('p', { className: 'muted', text: '还没有写入过。' }));
        return W.call('GET', admin + '/profile-links/runs/' + W.enc(latest.runId), { query: { limit: 50 } }).then(showProgress);
      }).catch(function (error) { progress.appendChild(W.inlineError(error, loadLinks)); });
      W.call('GET', admin + '/profile-links/manual-link').then(function (link) {
        var field = h('input', { className: 'weui-input ws-link', readonly: true, value: link.url, id: 'manual-url' });
        manual.appendChild(h('div', { className: 'weui-cells__title', text: '手动配置（未授权通讯录时）' }));
        manual.appendChild(W.cells([W.row('名称', link.title), h('div', { className: 'weui-cell' },
          h('div', { className: 'weui-cell__bd' }, field), h('div', { className: 'weui-cell__ft' }, W.copier(field)))]));
        manual.appendChild(h('p', { className: 'muted ws-pad', text: link.automatic ? '本团队已授权，链接会自动写入；也可以手动粘贴。'
          : '在企业微信管理后台 → 成员 → 对外资料中添加网页，填入上面的名称和链接。' }));
      }, function () { /* the manual link is a convenience beside the runs */ });
    }

    shell(path, '企业微信', sync.node, links.node);
    loadRuns();
    loadLinks();
  }

  W.route = function (path) {
    if (path === '/admin/console/settings') { settingsView(); return true; }
    if (path === '/admin/console/wecom') { wecomView(); return true; }
    return false;
  };
})();
