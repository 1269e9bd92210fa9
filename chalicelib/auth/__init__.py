"""Who is calling: member and contact sign-in, sessions, roles, admin access."""
