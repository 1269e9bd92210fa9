"""Tenants and their WeCom corp: onboarding, the suite's instructions, members, per-tenant clients."""
