/* 外部组织维护: the directory's tree in the admin console (workspace.js signs in and routes; this adds the view).
 *   /admin/console/directory[?node=<nodeId>]   the dimensions, or one node: its children with their counts, the
 *   contacts filed under it, and — for nodes people made — 新建 / 重命名 / 移动 / 删除; a dimension's maintainers.
 * Synced nodes (企业微信客户, 上下游) are shown as such and read-only; the server refuses anyway. */
(function () {
  'use strict';
  var Y = window.YQ;
  var W = window.YQW;
  var h = Y.h;
  var PATH = '/admin/console/directory';
  var KINDS = { dimension: '维度', organisation: '组织', department: '部门', group: '分组' };
  var CHILD = { '': 'dimension', dimension: 'organisation', group: 'organisation', organisation: 'department', department: 'department' };
  var MESSAGES = {
    node_has_children: '这个节点下还有组织、部门或联系人，不能删除：请先把它们移走或删除。',
    node_synced: '这个节点来自企业微信同步，只能在企业微信中修改。',
    node_changed: '这个节点刚被其他人修改过，请刷新后再试。',
    node_not_found: '没有找到这个节点：可能已被删除。',
    invalid_name: '请填写名称（最多 64 字）。',
    invalid_parent: '不能移动到这里：组织只能放在维度下，部门只能在本组织内移动。',
    parent_not_found: '上级节点已被删除，请刷新后再试。',
    maintainer_required: '只有这个维度的维护人、外部互联维护人和管理员可以修改这里。',
    directory_maintainer_required: '只有管理员和外部互联维护人可以做这件事。'
  };

  function describe(error) { return MESSAGES[error && error.code] || Y.describe(error); }

  function nodePath(id) { return '/api/directory/nodes/' + W.enc(id); }

  function onError(form) {
    return function (error) {
      if (error.handled) return true;
      var line = form.querySelector('.form-message');
      line.textContent = describe(error);
      line.className = 'form-message error';
      return true;
    };
  }

  /* A one-field form (a name, a userid): submit runs `send(value)`. */
  function oneField(id, placeholder, label, send, value) {
    var field = W.input(id, { placeholder: placeholder, maxlength: 64, autocomplete: 'off', value: value || '' });
    var form = h('form', { className: 'ws-inline', id: id + '-form' }, field,
      h('button', { type: 'submit', className: 'weui-btn weui-btn_mini weui-btn_primary', text: label }));
    Y.bindForm(form, function () { return send(field.value.trim()); }, onError(form));
    return form;
  }

  function counts(node) {
    return [node.childCount ? node.childCount + ' 个下级' : '', node.contactCount + ' 位联系人', node.synced ? '企业微信同步 · 只读' : '']
      .filter(Boolean).join(' · ');
  }

  function treeView() {
    var id = new URLSearchParams(location.search).get('node') || '';
    W.page(W.header('外部组织维护'), W.nav(PATH), Y.loading());
    var asked = id ? Promise.all([W.call('GET', nodePath(id)), W.call('GET', nodePath(id) + '/children', { query: { limit: 200 } })])
      : W.call('GET', '/api/directory/nodes', { query: { limit: 200 } }).then(function (top) { return [null, top]; });
    asked.then(function (both) { show(both[0], both[1].nodes || []); }, function (error) {
      if (error.handled) return;
      W.page(W.header('外部组织维护'), W.nav(PATH), error.status === 404 ? Y.notice('empty', '没有找到这个节点', describe(error),
        { label: '返回全部维度', run: function () { W.go(PATH); } }) : W.inlineError(error, treeView));
    });
  }

  function show(node, children) {
    var blocks = [];
    var trail = h('p', { className: 'ws-sub ws-pad adm-trail' }, W.link(PATH, null, { id: 'tree-root' }, '全部维度'));
    if (node) {
      if (node.parentId) trail.append(' › ', W.link(PATH, { node: node.parentId }, { id: 'tree-up' }, '上一级'));
      trail.append(' › ' + node.name);
      blocks.push(W.cells([W.row(KINDS[node.kind] || node.kind, node.name), W.row('统计', counts(node), { id: 'node-counts' })]));
    }
    blocks.push(h('div', { className: 'weui-cells__title', text: node ? '下级' : '维度' }));
    blocks.push(children.length ? W.cells(children.map(function (child) {
      return W.link(PATH, { node: child.nodeId }, { className: 'weui-cell weui-cell_access', 'data-node': child.nodeId },
        h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: child.name }),
          h('p', { className: 'ws-sub', text: (KINDS[child.kind] || child.kind) + ' · ' + counts(child) })),
        h('div', { className: 'weui-cell__ft' }));
    }), { id: 'tree-children' }) : h('p', { className: 'muted ws-pad', id: 'tree-empty', text: '暂无下级。' }));
    var kind = CHILD[node ? node.kind : ''];
    blocks.push(oneField('new-node', '新' + KINDS[kind] + '的名称', '新建' + KINDS[kind], function (name) {
      return W.call('POST', '/api/directory/nodes', { body: { kind: kind, name: name, parentId: node ? node.nodeId : null } }).then(treeView);
    }));
    if (node && !node.synced) blocks.push(editBlock(node));
    if (node && node.kind === 'dimension') blocks.push(maintainersBlock(node));
    if (node && (node.kind === 'organisation' || node.kind === 'department')) blocks.push(contactsBlock(node));
    W.page.apply(null, [W.header('外部组织维护'), W.nav(PATH), trail].concat(blocks));
  }

  /* 重命名, 移动 (an organisation to another dimension; a department within its organisation), 删除. */
  function editBlock(node) {
    var wrap = h('section', { id: 'node-edit' }, h('div', { className: 'weui-cells__title', text: '修改' + KINDS[node.kind] }));
    wrap.appendChild(oneField('rename', '新名称', '重命名', function (name) {
      return W.call('PATCH', nodePath(node.nodeId), { body: { name: name } }).then(treeView);
    }, node.name));
    if (node.kind !== 'dimension') {
      var select = h('select', { className: 'weui-select ws-select', id: 'f-move', 'aria-label': '移动到' });
      var move = h('form', { className: 'ws-inline', id: 'move-form' }, select,
        h('button', { type: 'submit', className: 'weui-btn weui-btn_mini weui-btn_default', text: '移动' }));
      Y.bindForm(move, function () {
        return W.call('PATCH', nodePath(node.nodeId), { body: { parentId: select.value } }).then(treeView);
      }, onError(move));
      var source = node.kind === 'organisation' ? W.call('GET', '/api/directory/nodes', { query: { limit: 200 } })
        .then(function (top) { return (top.nodes || []).filter(function (n) { return !n.synced; }); })
        : Promise.all([W.call('GET', nodePath(node.organisationId)), W.call('GET', nodePath(node.organisationId) + '/children', { query: { limit: 200 } })])
          .then(function (both) { return [both[0]].concat(both[1].nodes || []); });
      source.then(function (places) {
        places.filter(function (place) { return place.nodeId !== node.nodeId; }).forEach(function (place) {
          select.appendChild(h('option', { value: place.nodeId, selected: place.nodeId === node.parentId, text: place.name }));
        });
      }, function () { move.hidden = true; });
      wrap.appendChild(move);
    }
    var remove = h('form', { className: 'ws-buttons', id: 'delete-form' },
      h('button', { type: 'submit', className: 'weui-btn weui-btn_warn', id: 'delete-node', text: '删除' + KINDS[node.kind] }));
    Y.bindForm(remove, function () {
      if (!window.confirm('删除「' + node.name + '」？')) return null;
      return W.call('DELETE', nodePath(node.nodeId)).then(function () { W.go(PATH, node.parentId ? { node: node.parentId } : null, true); });
    }, onError(remove));
    wrap.appendChild(remove);
    return wrap;
  }

  function maintainersBlock(node) {
    var list = h('div', { id: 'maintainers' });
    var base = '/api/directory/dimensions/' + W.enc(node.nodeId) + '/maintainers';
    function load() {
      list.textContent = '';
      W.call('GET', base).then(function (answer) {
        var ids = answer.userIds || [];
        list.appendChild(ids.length ? W.cells(ids.map(function (userId) {
          return h('div', { className: 'weui-cell', 'data-maintainer': userId }, h('div', { className: 'weui-cell__bd', text: userId }),
            h('div', { className: 'weui-cell__ft' }, W.button('移除', 'default', function () {
              W.call('DELETE', base + '/' + W.enc(userId)).then(load, function (error) { list.appendChild(W.inlineError(error, load)); });
            }, { className: 'weui-btn weui-btn_default weui-btn_mini' })));
        })) : h('p', { className: 'muted ws-pad', text: '还没有维护人。' }));
      }, function (error) { list.appendChild(h('p', { className: 'muted ws-pad', text: describe(error) })); });
    }
    load();
    return h('section', null, h('div', { className: 'weui-cells__title', text: '维度维护人' }), list,
      oneField('maintainer', '成员的企业微信账号（userid）', '添加', function (userId) {
        return W.call('PUT', base + '/' + W.enc(userId)).then(load);
      }));
  }

  function contactsBlock(node) {
    var list = h('div', { id: 'node-contacts' });
    var query = node.kind === 'organisation' ? { organisationId: node.nodeId } : { departmentId: node.nodeId };
    W.call('GET', '/api/directory/back-office/contacts', { query: Object.assign({ limit: 50 }, query) }).then(function (answer) {
      var found = answer.contacts || [];
      list.appendChild(found.length ? W.cells(found.map(function (contact) {
        return W.link('/directory/contacts/' + W.enc(contact.contactId), null, { className: 'weui-cell weui-cell_access', 'data-contact': contact.contactId },
          h('div', { className: 'weui-cell__bd' }, h('p', { className: 'ws-name', text: contact.name }),
            h('p', { className: 'ws-sub', text: [contact.position, contact.mobile || contact.email].filter(Boolean).join(' · ') })),
          h('div', { className: 'weui-cell__ft' }));
      })) : h('p', { className: 'muted ws-pad', text: '这里还没有联系人。' }));
      if (answer.nextCursor) list.appendChild(h('p', { className: 'muted ws-pad', text: '只显示前 50 位。' }));
    }, function (error) { list.appendChild(h('p', { className: 'muted ws-pad', text: describe(error) })); });
    return h('section', null, h('div', { className: 'weui-cells__title', text: '联系人' }), list);
  }

  W.route = function (path) {
    if (path !== PATH) return false;
    treeView();
    return true;
  };
})();
