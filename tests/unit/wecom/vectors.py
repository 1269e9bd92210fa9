"""WeCom callback-crypto conformance vectors (doc 91144), copied here so tests never read shared files.

V1 is the official doc's example, V3 comes from wechatpy's test suite, V4 (multibyte) from WxJava's tests.
"""

# V1: the official example.
V1_TOKEN = "QDG6eK"
V1_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
V1_RECEIVE_ID = "wx5823bf96d3bd56c7"

V1_GET_SIGNATURE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
V1_GET_TIMESTAMP = "1409659589"
V1_GET_NONCE = "263014780"
V1_GET_ECHOSTR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
V1_GET_PLAINTEXT = "1616140317555161061"

V1_POST_SIGNATURE = "477715d11cdb4164915debcba66cb864d751f3e6"
V1_POST_TIMESTAMP = "1409659813"
V1_POST_NONCE = "1372623149"
V1_POST_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/s"
    "YYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJ"
    "YuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGU"
    "callcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDY"
    "A5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)
V1_POST_FIELDS = {"FromUserName": "mycreate", "MsgType": "text", "Content": "hello",
                  "MsgId": "4561255354251345929", "AgentID": "218", "ToUserName": V1_RECEIVE_ID}

# V3: wechatpy's test suite.
V3_TOKEN = "123456"
V3_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
V3_RECEIVE_ID = "wx49f0ab532d5d035a"

V3_GET_SIGNATURE = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"
V3_GET_TIMESTAMP = "1411443780"
V3_GET_NONCE = "437374425"
V3_GET_WRONG_NONCE = "437374424"
V3_GET_ECHOSTR = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
V3_GET_PLAINTEXT = "5927782489442352469"

V3_POST_SIGNATURE = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
V3_POST_TIMESTAMP = "1411525903"
V3_POST_NONCE = "461056294"
V3_POST_ENCRYPT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283d"
    "Gymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwB"
    "iT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54S"
    "NdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91"
    "eBdCRxthuL0="
)
V3_POST_FIELDS = {"FromUserName": "messense", "MsgType": "text", "Content": "test",
                  "MsgId": "4363689963896700987", "AgentID": "1", "ToUserName": V3_RECEIVE_ID}

# V3, deterministic encryption with a fixed random prefix.
V3_ENC_RANDOM_PREFIX = b"1234567890123456"
V3_ENC_NONCE = "461056294"
V3_ENC_TIMESTAMP = "1411525903"
V3_ENC_PLAINTEXT = (
    "<xml>\n"
    "<MsgType><![CDATA[text]]></MsgType>\n"
    "<Content><![CDATA[test]]></Content>\n"
    "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n"
    "<ToUserName><![CDATA[messense]]></ToUserName>\n"
    "<AgentID>1</AgentID>\n"
    "<CreateTime>1411525903</CreateTime>\n"
    "</xml>"
)
V3_ENC_ENCRYPT = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURn"
    "AtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oy"
    "KQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkd"
    "Q39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)
V3_ENC_SIGNATURE = "407518b7649e86ef23978113f92d27afa9296533"

# V4: multibyte plaintext (WxJava). The token is not part of the vector: only the ciphertext is.
V4_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
V4_RECEIVE_ID = "wxb11529c136998cb6"
V4_RANDOM_PREFIX = b"aaaabbbbccccdddd"
V4_PLAINTEXT = "我是中文abcd123"
V4_ENCRYPT = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
