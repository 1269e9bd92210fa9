"""Adding contacts by invitation: WeChat-friend invitation links (`wechat`), invitations between organisations
(`organisations`), the signed tokens and the note rule both use (`tokens`, `notes`) and the name indexes that let a
member find someone in another organisation without enumerating anybody (`lookup`)."""
