"""Who is calling: members, contacts, operators and the tenant's integrations, and how each proves it."""
