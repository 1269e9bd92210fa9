"""A local WeCom (企业微信) simulator: dev-only tooling, never deployed.

It stands in for qyapi.weixin.qq.com (and the official-account OAuth exchange of api.weixin.qq.com) in the local stack,
the tests and the benchmarks. See README.md for the API it serves and its /__sim__/ control API.
"""
