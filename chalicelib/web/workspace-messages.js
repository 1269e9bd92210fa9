/* 外部互联 · 消息: the member's threads with external contacts and one thread, at
 *   /directory/messages              the threads, the latest message first, unread counts, 加载更多
 *   /directory/messages/<contactId>  one thread (what the WeCom card of a contact's message opens)
 * Loaded after workspace.js, whose YQW it builds with: a navigation section, its routes and 发消息 on a contact's card. */
(function () {
  'use strict';
  var Y = window.YQ;
  var W = window.YQW;
  var h = Y.h;
  var PAGE = 20;
  var SENTENCES = {
    invalid_text: '消息不能为空，最多 1000 字。',
    too_many_messages: '消息发送太频繁，请稍后再试。'
  };

  function inboxView() {
    var cursor = null;
    var list = W.cells([], { id: 'threads' });
    var status = h('div');
    var more = W.button('加载更多', 'default', function () { next(); }, { id: 'load-more', hidden: true });

    function threadRow(thread) {
      var text = (thread.lastAuthor === 'member' ? '我：' : '') + (thread.lastText || '');
      return W.link('/directory/messages/' + W.enc(thread.contactId), null, { className: 'weui-cell weui-cell_access', 'data-thread': thread.contactId },
        h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: thread.name }), h('p', { className: 'ws-sub msg-snippet', text: text })),
        h('div', { className: 'weui-cell__ft msg-when' }, h('span', { text: Y.when(thread.lastAt) }),
          thread.unread ? h('span', { className: 'weui-badge msg-badge', 'data-unread': thread.unread, text: thread.unread }) : null));
    }

    function next() {
      more.hidden = true;
      status.textContent = '';
      status.appendChild(Y.loading());
      W.call('GET', '/api/messages/threads', { query: { cursor: cursor, limit: PAGE } }).then(function (body) {
        status.textContent = '';
        (body.threads || []).forEach(function (thread) { list.appendChild(threadRow(thread)); });
        cursor = body.nextCursor || null;
        more.hidden = !cursor;
        if (!list.children.length && !cursor) {
          status.appendChild(Y.notice('empty', '还没有消息', '外部联系人在「与我协作」给您发消息，或您在联系人名片上点「发消息」后，会显示在这里。'));
        }
      }, function (error) {
        status.textContent = '';
        more.hidden = !cursor;
        status.appendChild(W.inlineError(error, function () { next(); }));
      });
    }

    W.page(W.header('消息'), W.nav('/directory/messages'), list, status, more);
    next();
  }

  function threadView(contactId) {
    var path = '/api/directory/contacts/' + W.enc(contactId) + '/messages';
    var list = h('ul', { className: 'msgs', id: 'messages' });
    var empty = h('p', { className: 'muted msg-empty', id: 'no-messages', text: '还没有消息。对方会通过微信公众号收到您的消息，并在「与我协作」中看到。' });
    var earlier = W.button('加载更早的消息', 'default', null, { id: 'load-earlier', hidden: true, className: 'weui-btn weui-btn_default weui-btn_mini' });
    var text = h('textarea', { className: 'weui-textarea', name: 'text', id: 'f-text', rows: 3, maxlength: 1000, placeholder: '输入消息…', 'aria-label': '消息' });
    var form = h('form', { className: 'ws-form msg-form', id: 'message-form', novalidate: true },
      h('div', { className: 'weui-cells weui-cells_form' }, h('div', { className: 'weui-cell' }, h('div', { className: 'weui-cell__bd' }, text))),
      h('div', { className: 'ws-buttons' }, h('button', { type: 'submit', className: 'weui-btn weui-btn_primary', text: '发送' })));

    W.page(W.header('消息', '/directory/messages'), Y.loading());
    Y.messageThread(W.call, path, 'member', { list: list, empty: empty, earlier: earlier, form: form, text: text,
                                             sentences: SENTENCES }).then(function (body) {
      var contact = body.contact || {};
      W.page(W.header(contact.name || '消息', '/directory/messages'),
        h('p', { className: 'ws-pad' }, W.link('/directory/contacts/' + W.enc(contactId), null, { id: 'open-contact' }, '查看联系人 ›')),
        h('section', { className: 'msg-thread', 'data-thread': contact.contactId }, h('div', { className: 'msg-earlier' }, earlier), list, empty),
        form);
      /* A long thread opens at its newest messages, with the box to answer in view. */
      if (list.children.length > 3 && form.scrollIntoView) form.scrollIntoView({ block: 'end' });
    }, function (error) {
      if (error.handled) return;
      if (error.status === 404) {
        return W.page(W.header('消息', '/directory/messages'), Y.notice('empty', '没有找到这个外部联系人', Y.describe(error),
          { label: '返回消息', run: function () { W.go('/directory/messages'); } }));
      }
      W.failed('消息', error, function () { threadView(contactId); });
    });
  }

  W.sections.push({ path: '/directory/messages', label: '消息' });
  W.cardLinks.push(function (contact) {
    return h('p', { className: 'ws-pad msg-card-link' },
      W.link('/directory/messages/' + W.enc(contact.contactId), null, { id: 'message-contact' }, '发消息 ›'));
  });
  var previous = W.route;
  W.route = function (path, params) {
    var match;
    function part(value) { try { return decodeURIComponent(value); } catch (e) { return value; } }
    if (path === '/directory/messages') { inboxView(); return true; }
    if ((match = /^\/directory\/messages\/([^/]+)$/.exec(path))) { threadView(part(match[1])); return true; }
    return previous ? previous(path, params) : false;
  };
})();
