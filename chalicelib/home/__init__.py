"""The external contact's side of sharing (与我协作): signing in through WeChat or WeCom OAuth, the home with its
counts and newest items, per-kind lists, item details with the conversation, comments and form submissions."""
