"""Who is calling: member and contact sign-in, the OAuth round trips that lead to it, sessions, roles, admin access."""
