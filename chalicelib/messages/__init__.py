"""Messages between an external contact and the members they work with (我的对接人 on the home, 消息 in the
workspace)."""
