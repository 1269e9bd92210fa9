/* 聊天工具栏: the WeCom chat toolbar page (WeCom's sidebar beside a chat, 360–420 px wide). Signs the member in as the
 * workspace does (WeCom OAuth inside the client, the same session), registers WeCom's JS-SDK with signatures Yunqiao
 * computes, asks the client which chat it is in (ww.getContext) and shows that chat's contact: who they are, what is
 * shared with them, the three project tabs with binding, and 发送给当前联系人 for every kind — the item is shared and
 * its card goes into the chat (ww.sendChatMessage, a news message). */
(function () {
  'use strict';
  var Y = window.YQ;
  var h = Y.h;
  var tenantKey = (Y.query.get('tenantKey') || '').trim();
  var memberAuth = Y.memberSession(tenantKey, function (note) { signInView(note); });
  var inWeCom = memberAuth.inWeCom;
  var call = memberAuth.call, token = memberAuth.token;
  var KINDS = [
    { kind: 'project', label: '项目' }, { kind: 'task', label: '任务' }, { kind: 'document', label: '文档' },
    { kind: 'schedule', label: '日程' }, { kind: 'approval', label: '审批' }, { kind: 'form', label: '表单·填写' },
    { kind: 'form_record', label: '表单记录·查看' }, { kind: 'crm_record', label: 'CRM' }
  ];
  var LABELS = { project: '项目', task: '任务', approval: '审批', form: '表单', form_record: '表单记录', document: '文档',
                 schedule: '日程', crm_record: 'CRM' };
  var SOURCES = { manual: '手动添加', invitation: '微信邀请', other_organisation: '其他组织', wecom_customer: '企业微信客户',
                  wecom_chain: '上下游' };
  var ACCOUNT = { none: '未开通', pending: '审批中', opened: '已开通', disabled: '已停用' };
  var ROLES = { owner: '我负责', edit: '我参与', view: '共享给我' };
  var CHAT_ENTRIES = ['single_chat_tools', 'contact_profile', 'group_chat_tools', 'chain_single_chat_tools',
                      'chain_group_chat_tools'];
  var MESSAGES = {
    contact_not_synced: '这位客户还不在外部联系人中，也没能从企业微信读取：可能团队关闭了客户自动同步，或企业微信不再把TA识别为团队成员的客户。请稍后重试，或请管理员运行客户同步。',
    chain_contact_not_synced: '这位上下游联系人还没有同步过来：上下游同步完成后再打开工具栏即可。',
    contact_is_member: '这是本团队的成员，不是外部联系人。',
    contact_not_found: '你不能查看这位联系人：TA 不在你的可见范围内。上下游联系人由管理员和上下游维度的维护人查看，如需协作请联系他们。',
    group_chat_not_found: '企业微信没有把这个群识别为本团队的客户群。',
    not_in_group: '你不在这个客户群中，不能查看群里的客户。',
    invalid_page_url: '工具栏地址不正确：请按文档在企业微信管理后台配置工具栏页面。',
    no_wecom_app: '团队还没有配置企业微信应用（AgentId），请联系管理员。',
    not_item_editor: '只有负责人和有编辑权限的成员可以共享这项内容。',
    item_not_found: '这项内容已不存在。'
  };

  /* ---- session (Y.memberSession: the workspace's, the same OAuth round trip) ---- */

  function say(error) {
    return (error && MESSAGES[error.code]) || Y.describe(error);
  }

  function page() {
    Y.show.apply(null, arguments);
    document.getElementById('app').className = 'ws tb';
  }

  function header(title, sub) {
    return h('header', { className: 'bar ws-bar tb-bar' },
      h('div', { className: 'ws-bar-text' }, h('h1', { className: 'bar-title', text: title }),
        sub ? h('p', { className: 'bar-sub', text: sub }) : null));
  }

  function signInView(note) {
    if (memberAuth.signsInAtOnce(note)) {
      page(header('聊天工具栏'), Y.loading('正在通过企业微信登录…'));
      memberAuth.startLogin().catch(function (error) { signInView(Y.describe(error)); });
      return;
    }
    var form = h('form', { className: 'card form ws-login', id: 'login-form', novalidate: true },
      h('h2', { text: '登录聊天工具栏' }),
      note ? h('p', { className: 'form-note', role: 'status', text: note }) : null,
      h('p', { className: 'muted', text: '使用企业微信身份登录。' }),
      h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', id: 'login', text: inWeCom ? '企业微信授权登录' : '企业微信扫码登录' }));
    Y.bindForm(form, memberAuth.startLogin);
    page(header('聊天工具栏'), form);
  }

  function exchange(code, state) {
    var signingIn = memberAuth.exchange(code, state);
    page(header('聊天工具栏'), Y.loading('正在登录…'));
    signingIn.then(function () { start(); }, function (error) { signInView(Y.describe(error)); });
  }

  function stop(title, detail, retry) {
    page(header('聊天工具栏'), Y.notice('error', title, detail, retry ? { label: '重试', run: retry } : null));
  }

  /* ---- WeCom's JS-SDK ---- */

  function sdkError(error) {
    var text = (error && (error.errMsg || error.message)) || '';
    return /no permission|invalid signature|fail/.test(text) ? '企业微信未通过页面签名校验（' + text + '），请联系管理员检查可信域名和应用配置。'
      : '企业微信没有响应：' + text;
  }

  /* ww.register with the signatures the API computed for this very address; resolves once the client answers
   * getContext (the first call that needs the app's identity). */
  function register() {
    return call('GET', '/api/sharing/toolbar/register-config', { query: { url: location.href } }).then(function (config) {
      var ww = window.ww;
      if (!ww || typeof ww.register !== 'function') throw { errMsg: 'no ww' };
      ww.register({
        corpId: config.corpId, agentId: config.agentId, jsApiList: config.jsApiList,
        getConfigSignature: function () { return { timestamp: config.timestamp, nonceStr: config.nonceStr, signature: config.signature }; },
        getAgentConfigSignature: function () { return { timestamp: config.timestamp, nonceStr: config.nonceStr, signature: config.agentSignature }; }
      });
      return ww.getContext();
    });
  }

  function start() {
    if (!tenantKey) return stop('无法打开', '链接中缺少团队识别码（tenantKey），请按文档配置工具栏页面地址。');
    var params = new URLSearchParams(location.search);
    if (params.get('code')) return exchange(params.get('code'), params.get('state') || '');
    if (!token()) return signInView();
    page(header('聊天工具栏'), Y.loading('正在连接企业微信…'));
    register().then(function (context) {
      var entry = context && context.entry;
      if (CHAT_ENTRIES.indexOf(entry) < 0) return outsideChat();
      if (entry === 'group_chat_tools') return window.ww.getCurExternalChat().then(function (chat) { groupView(chat.chatId); });
      if (entry === 'chain_single_chat_tools' || entry === 'chain_group_chat_tools') {
        return window.ww.getCurCorpGroupContact().then(function (who) { open({ corpId: who.corpId, userId: who.userId }, entry); });
      }
      return window.ww.getCurExternalContact().then(function (who) { open({ externalUserId: who.userId }, entry); });
    }).catch(function (error) {
      if (error && error.handled) return;
      if (error instanceof Y.ApiError) return stop('无法打开', say(error), start);
      if (error && error.errMsg === 'no ww') return stop('请在企业微信中打开', '这个页面是企业微信聊天工具栏，请在企业微信的聊天侧边栏中打开。');
      stop('无法连接企业微信', sdkError(error), start);
    });
  }

  function outsideChat() {
    page(header('聊天工具栏'), Y.notice('empty', '请从聊天中打开',
      '在企业微信里打开与客户或上下游联系人的聊天，点击聊天工具栏中的「云桥」，这里就会显示对方的信息和共享内容。'));
  }

  /* ---- a customer group: pick one of its customers ---- */

  function groupView(chatId) {
    page(header('客户群'), Y.loading());
    call('GET', '/api/sharing/toolbar/group-chats/' + encodeURIComponent(chatId)).then(function (group) {
      var rows = group.customers.map(function (customer) {
        return h('button', { type: 'button', className: 'weui-cell weui-cell_access tb-pick', 'data-external': customer.externalUserId,
                             onclick: function () { open({ externalUserId: customer.externalUserId }, 'group_chat_tools', group); } },
          h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: customer.name || customer.externalUserId }),
            customer.inDirectory ? null : h('p', { className: 'ws-sub', text: '首次打开，将从企业微信读取' })),
          h('div', { className: 'weui-cell__ft', text: '查看' }));
      });
      page(header(group.name || '客户群', '选择群里的一位客户'),
        rows.length ? h('div', { className: 'weui-cells', id: 'group-customers' }, rows)
          : Y.notice('empty', '群里还没有客户', '客户进群后，这里会列出他们。'));
    }, function (error) { if (!error.handled) stop('无法读取客户群', say(error), function () { groupView(chatId); }); });
  }

  /* ---- the contact ---- */

  function open(who, entry, group) {
    page(header('聊天工具栏'), Y.loading('正在读取联系人…'));
    call('POST', '/api/sharing/toolbar/contact', { body: who }).then(function (card) {
      contactView(card, entry, group);
    }, function (error) {
      if (error.handled) return;
      stop(error.code === 'network' ? '网络不可用' : '无法显示这位联系人', say(error), function () { open(who, entry, group); });
    });
  }

  function row(label, value) {
    return h('div', { className: 'weui-cell' }, h('div', { className: 'weui-cell__bd', text: label }),
      h('div', { className: 'weui-cell__ft ws-value', text: value || '—' }));
  }

  function contactView(card, entry, group) {
    var contact = card.contact;
    var state = { contact: contact, binding: card.binding, tab: 'bound', projects: null };
    var org = contact.orgName || contact.corpName || '';
    var account = contact.accountStatus ? ACCOUNT[contact.accountStatus] || contact.accountStatus : '仅添加人和维护人可见';
    var who = h('section', { className: 'card tb-who', id: 'contact' },
      h('p', { className: 'tb-name' }, h('span', { text: contact.name }),
        h('span', { className: 'badge', text: SOURCES[contact.source] || '' })),
      h('div', { className: 'weui-cells tb-facts' }, row('所属组织', org || '未归入组织'), row('职位', contact.position),
        row('账号状态', account)),
      contact.inactiveAt ? h('p', { className: 'form-message error', text: '已不再是企业微信客户' }) : null);

    var shared = h('section', { id: 'shared' });
    var projects = h('section', { id: 'projects' });
    var send = h('section', { id: 'send' });
    var back = group ? h('button', { type: 'button', className: 'btn link', id: 'back-to-group', text: '‹ 群里的其他客户',
                                     onclick: function () { groupView(group.chatId); } }) : null;
    page(header(entry && entry.indexOf('chain_') === 0 ? '当前上下游联系人' : '当前联系人'), back, who, shared, projects, send);
    sharedView(shared, card.shared);
    projectsView(projects, state);
    state.inChat = entry !== 'contact_profile';
    sendView(send, state, shared);
  }

  function sharedView(root, shared) {
    root.textContent = '';
    var kinds = Object.keys(LABELS).filter(function (kind) { return shared.counts[kind]; });
    root.appendChild(h('div', { className: 'weui-cells__title', text: '已共享给TA' }));
    if (!kinds.length) {
      root.appendChild(h('p', { className: 'muted ws-pad', id: 'shared-empty', text: '还没有共享内容。在下方选择内容发送给TA。' }));
      return;
    }
    root.appendChild(h('div', { className: 'weui-cells', id: 'shared-list' }, kinds.map(function (kind) {
      var titles = (shared.latest[kind] || []).map(function (item) { return item.title; }).join('、');
      return h('div', { className: 'weui-cell', 'data-kind': kind },
        h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: LABELS[kind] + ' · ' + shared.counts[kind] }),
          h('p', { className: 'ws-sub', text: titles })));
    })));
  }

  /* ---- 项目: 绑定的项目, 联系人的项目, 本人的项目; binding ---- */

  function projectsView(root, state) {
    root.textContent = '';
    var tabs = [{ key: 'bound', label: '绑定的项目' }, { key: 'contact', label: '联系人的项目' }, { key: 'own', label: '本人的项目' }];
    var list = h('div', { id: 'project-list' });
    var bar = h('div', { className: 'weui-navbar ws-tabs tb-tabs', role: 'tablist' }, tabs.map(function (tab) {
      return h('button', { type: 'button', role: 'tab', className: 'weui-navbar__item' + (state.tab === tab.key ? ' weui-bar__item_on' : ''),
                           'aria-selected': state.tab === tab.key ? 'true' : 'false', 'data-tab': tab.key, text: tab.label,
                           onclick: function () { state.tab = tab.key; projectsView(root, state); } });
    }));
    root.appendChild(h('div', { className: 'weui-cells__title', text: '项目' }));
    root.appendChild(bar);
    root.appendChild(list);
    root.appendChild(crmForm(state));
    if (state.projects) return fillProjects(list, state, root);
    list.appendChild(Y.loading());
    call('GET', '/api/sharing/toolbar/contacts/' + encodeURIComponent(state.contact.contactId) + '/projects').then(function (view) {
      state.projects = view;
      state.binding = view.binding;
      fillProjects(list, state, root);
    }, function (error) {
      list.textContent = '';
      if (!error.handled) list.appendChild(Y.notice('error', '加载失败', say(error), { label: '重试', run: function () { projectsView(root, state); } }));
    });
  }

  function fillProjects(list, state, root) {
    list.textContent = '';
    var bound = state.binding.projectIds || [];
    var rows;
    if (state.tab === 'own') {
      rows = state.projects.ownProjects.map(function (project) {
        var isBound = bound.indexOf(project.itemId) >= 0;
        return h('div', { className: 'weui-cell', 'data-project': project.itemId },
          h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: project.title }),
            h('p', { className: 'ws-sub', text: ROLES[project.role] || '' })),
          h('div', { className: 'weui-cell__ft' }, h('button', {
            type: 'button', className: 'weui-btn weui-btn_mini ' + (isBound ? 'weui-btn_default' : 'weui-btn_primary'),
            'data-bind': project.itemId, text: isBound ? '解除绑定' : '绑定',
            onclick: function (event) { toggleBinding(state, project.itemId, !isBound, event.target, root); } })));
      });
    } else {
      rows = state.projects.projects.filter(function (project) {
        return state.tab === 'bound' ? project.bound : project.shared;
      }).map(function (project) {
        return h('div', { className: 'weui-cell', 'data-project': project.itemId },
          h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: project.title || project.itemId }),
            h('p', { className: 'ws-sub', text: !project.registered ? '项目未登记' : project.canOpen ? (project.status || '可查看')
              : '仅显示标题：你不是这个项目的成员' })));
      });
    }
    if (rows.length) return list.appendChild(h('div', { className: 'weui-cells' }, rows));
    list.appendChild(h('p', { className: 'muted ws-pad', text: {
      bound: '还没有绑定项目。在「本人的项目」中把TA绑定到项目。',
      contact: '还没有项目共享给TA。',
      own: '你还没有负责或参与的项目。'
    }[state.tab] }));
  }

  function saveBinding(state, projectIds, crm) {
    return call('PUT', '/api/sharing/toolbar/contacts/' + encodeURIComponent(state.contact.contactId) + '/binding',
      { body: { projectIds: projectIds, crmCustomerId: crm || null } }).then(function (binding) {
      state.binding = binding;
      state.projects = null;
      return binding;
    });
  }

  function toggleBinding(state, projectId, bind, button, root) {
    var ids = (state.binding.projectIds || []).filter(function (id) { return id !== projectId; });
    if (bind) ids.push(projectId);
    button.disabled = true;
    saveBinding(state, ids, state.binding.crmCustomerId).then(function () { projectsView(root, state); }, function (error) {
      button.disabled = false;
      if (!error.handled) window.alert(say(error));
    });
  }

  function crmForm(state) {
    var input = h('input', { className: 'weui-input', id: 'crm-id', name: 'crm', maxlength: 128, placeholder: 'CRM 客户编号',
                             value: state.binding.crmCustomerId || '', 'aria-label': 'CRM 客户' });
    var form = h('form', { className: 'tb-crm', id: 'crm-form', novalidate: true },
      h('div', { className: 'weui-cells__title', text: '绑定的 CRM 客户' }),
      h('div', { className: 'ws-inline' }, input,
        h('button', { type: 'submit', className: 'weui-btn weui-btn_mini weui-btn_primary', text: '保存' })));
    var done = Y.bindFormWith({ invalid_crm_customer: 'CRM 客户编号只能包含字母、数字和 . _ : -。' }, form, function () {
      return saveBinding(state, state.binding.projectIds || [], input.value.trim()).then(function () { done('已保存'); });
    });
    return form;
  }

  /* ---- 发送给当前联系人 ---- */

  function sendView(root, state, sharedRoot) {
    var kind = KINDS[1].kind;
    var list = h('div', { id: 'send-list' });
    var status = h('p', { className: 'form-message', id: 'send-status', role: 'status' });
    var picker = h('div', { className: 'tb-kinds', role: 'tablist' });
    function choose(next) {
      kind = next;
      picker.textContent = '';
      KINDS.forEach(function (entry) {
        picker.appendChild(h('button', { type: 'button', className: 'tb-kind' + (entry.kind === kind ? ' on' : ''), 'data-kind': entry.kind,
                                         'aria-pressed': entry.kind === kind ? 'true' : 'false', text: entry.label,
                                         onclick: function () { choose(entry.kind); } }));
      });
      load();
    }
    function load() {
      list.textContent = '';
      list.appendChild(Y.loading());
      call('GET', '/api/sharing/toolbar/my-items', { query: { kind: kind } }).then(function (answer) {
        list.textContent = '';
        if (!answer.items.length) {
          list.appendChild(h('p', { className: 'muted ws-pad', text: '你还没有可发送的' + LABELS[kind] + '。' }));
          return;
        }
        list.appendChild(h('div', { className: 'weui-cells' }, answer.items.map(function (item) {
          return h('div', { className: 'weui-cell', 'data-item': item.itemId },
            h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: item.title }),
              h('p', { className: 'ws-sub', text: [ROLES[item.role], item.status].filter(Boolean).join(' · ') })),
            h('div', { className: 'weui-cell__ft' }, item.canMaintain ? h('button', {
              type: 'button', className: 'weui-btn weui-btn_mini weui-btn_primary', 'data-send': item.itemId,
              text: state.inChat ? '发送' : '共享',
              onclick: function (event) { sendItem(state, item, event.target, status, sharedRoot); } })
              : h('span', { className: 'ws-sub', text: '仅查看' })));
        })));
      }, function (error) {
        list.textContent = '';
        if (!error.handled) list.appendChild(Y.notice('error', '加载失败', say(error), { label: '重试', run: load }));
      });
    }
    root.appendChild(h('div', { className: 'weui-cells__title', text: state.inChat ? '发送给当前联系人' : '共享给TA' }));
    root.appendChild(picker);
    root.appendChild(status);
    root.appendChild(list);
    choose(kind);
  }

  function sendItem(state, item, button, status, sharedRoot) {
    button.disabled = true;
    status.className = 'form-message';
    status.textContent = '正在发送…';
    var body = { contactId: state.contact.contactId, kind: item.kind, itemId: item.itemId };
    call('POST', '/api/sharing/send', { body: body }).then(function (sent) {
      var card = sent.card;
      if (!state.inChat) {  /* the contact's profile: no chat to post into */
        status.className = 'form-message ok';
        status.textContent = '已共享「' + card.title + '」，TA 可在「与我协作」中看到。';
        return;
      }
      return window.ww.sendChatMessage({ msgtype: 'news', news: { link: card.link, title: card.title, desc: card.description, imgUrl: card.imgUrl } })
        .then(function () {
          status.className = 'form-message ok';
          status.textContent = '已发送「' + card.title + '」，TA 已成为共享人。';
        }, function (error) {
          status.className = 'form-message error';
          status.textContent = '已共享给TA，但没能发到聊天里（' + ((error && error.errMsg) || '企业微信未响应') + '）。TA 仍可在「与我协作」中看到。';
        });
    }, function (error) {
      if (error.handled) return;
      status.className = 'form-message error';
      status.textContent = say(error);
    }).then(function () {
      button.disabled = false;
      return call('POST', '/api/sharing/toolbar/contact', { body: { contactId: state.contact.contactId } });
    }).then(function (card) { if (card) sharedView(sharedRoot, card.shared); }, function () {});
  }

  start();
})();
