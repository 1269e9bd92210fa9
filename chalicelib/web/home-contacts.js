/* 与我协作: 我的对接人 on the home and the message thread with each of them (#/m/<userId>). Loaded after home.js,
 * whose YQH it builds with: a block on the home (the 对接人, what they last said, what is unread) and a route. */
(function () {
  'use strict';
  var Y = window.YQ;
  var H = window.YQH;
  var h = Y.h;
  var ROLES = { adder: '添加人', visible: '可见成员', share_list: '共享成员', follower: '企业微信好友', sharer: '共享了内容',
                thread: '联系过您' };
  var SENTENCES = {
    invalid_text: '消息不能为空，最多 1000 字。',
    too_many_messages: '消息发送太频繁，请稍后再试。',
    liaison_not_found: '这位成员不是您的对接人，无法发送消息。'
  };

  function threadHref(userId) { return '#/m/' + encodeURIComponent(userId); }

  function liaisonRow(liaison) {
    var thread = liaison.thread;
    var roles = (liaison.roles || []).map(function (role) { return ROLES[role]; }).filter(Boolean).join('、');
    return h('li', null, h('a', { className: 'item msg-liaison', href: threadHref(liaison.userId), 'data-liaison': liaison.userId },
      h('span', { className: 'msg-avatar', 'aria-hidden': 'true', text: (liaison.name || '?').slice(0, 1) }),
      h('span', { className: 'msg-liaison-text' },
        h('span', { className: 'item-top' }, h('span', { className: 'item-title', text: liaison.name }),
          thread && thread.unread ? h('span', { className: 'msg-unread', 'data-unread': thread.unread, text: thread.unread + ' 条新消息' }) : null),
        h('span', { className: 'item-meta msg-snippet', text: thread ? (thread.lastAuthor === 'contact' ? '我：' : '') + thread.lastText : roles }))));
  }

  /* The home's 我的对接人: filled in when the API answers, without holding up the rest of the home. */
  function liaisonsBlock() {
    var list = h('ul', { className: 'items', id: 'liaisons' });
    var status = h('div', null, h('p', { className: 'muted msg-empty', role: 'status', text: '正在加载对接人…' }));
    var block = h('section', { className: 'block', id: 'liaisons-block' },
      h('div', { className: 'block-head' }, h('h2', { text: '我的对接人' })), status, list);
    H.call('GET', '/api/external/liaisons').then(function (body) {
      status.textContent = '';
      (body.liaisons || []).forEach(function (liaison) { list.appendChild(liaisonRow(liaison)); });
      if (!list.children.length) status.appendChild(h('p', { className: 'muted msg-empty', text: '暂时没有对接人。企业的成员添加您或向您共享内容后，会显示在这里。' }));
    }, function (error) {
      if (error.handled) return;
      status.textContent = '';
      status.appendChild(h('p', { className: 'form-message error', role: 'alert', text: Y.describe(error) }));
    });
    return block;
  }

  /* #/m/<userId>: the thread, newest at the bottom; older pages load above. */
  function threadView(userId) {
    var path = '/api/external/liaisons/' + encodeURIComponent(userId) + '/messages';
    var list = h('ul', { className: 'msgs', id: 'messages' });
    var empty = h('p', { className: 'muted msg-empty', id: 'no-messages', text: '还没有消息。写下您想说的话，对方会在企业微信收到提醒。' });
    var earlier = h('button', { type: 'button', className: 'btn link wide', id: 'load-earlier', text: '加载更早的消息', hidden: true });
    var text = h('textarea', { name: 'text', rows: 3, maxlength: 1000, placeholder: '输入消息…', 'aria-label': '消息' });
    var form = h('form', { className: 'comment-form msg-form', id: 'message-form', novalidate: true }, text,
      h('button', { type: 'submit', className: 'btn primary', text: '发送' }));

    Y.show(H.header('消息', '#/'), Y.loading());
    Y.messageThread(H.call, path, 'contact', { list: list, empty: empty, earlier: earlier, form: form, text: text,
                                              sentences: SENTENCES }).then(function (body) {
      var liaison = body.liaison || {};
      Y.show(H.header(liaison.name || '消息', '#/'),
        h('section', { className: 'card msg-thread', 'data-thread': liaison.userId }, earlier, list, empty, form));
      /* A long thread opens at its newest messages, with the box to write in view. */
      if (list.children.length > 3 && form.scrollIntoView) form.scrollIntoView({ block: 'end' });
    }, function (error) {
      if (error.handled) return;
      if (error.status === 404) {
        return Y.show(H.header('消息', '#/'), Y.notice('empty', '无法给这位成员发消息', SENTENCES[error.code] || Y.describe(error),
          { label: '返回首页', run: function () { H.go('#/'); } }));
      }
      H.failed(error, function () { threadView(userId); });
    });
  }

  H.blocks.push(liaisonsBlock);
  H.routes.push(function (parts, signedIn) {
    if (!signedIn || parts[0] !== 'm' || !parts[1]) return false;
    threadView(parts.slice(1).join('/'));
    return true;
  });
})();
