"""Write a large, deterministic corp scenario for benchmarks.

`python -m dev.wecom_sim.generate --members 2000 --customers 10000 --follow-users 50 --chains 2 \
    --corps-per-chain 200 --seed 1 --out dev/scenarios/large.json`

The same parameters and seed always give the same file, so benchmark figures are comparable between runs.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
from pathlib import Path

CORP_NAMES = ["星河贸易", "海川物流", "蓝鲸设备", "北辰电子",
              "南山商贸", "东岳建材", "西岭科技", "青禾食品"]
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def _hex(seed: int, *parts: object) -> str:
    return hashlib.sha1(":".join(map(str, (seed, *parts))).encode()).hexdigest()


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")


def generate(members: int = 2000, customers: int = 10000, follow_users: int = 50, chains: int = 2,
             corps_per_chain: int = 200, seed: int = 1, corpid: str = "wwbench0001") -> dict:
    """A scenario with one big corp (and the same credentials layout as demo.json)."""
    if follow_users > members:
        raise ValueError("follow_users cannot exceed members")
    rng = random.Random(seed)
    dept_count = max(2, members // 100)
    departments = [{"id": 1, "name": "总部", "parentid": 0}] + [
        {"id": d, "name": f"部门{d}", "parentid": 1} for d in range(2, dept_count + 2)]
    member_list = []
    for i in range(members):
        depts = [rng.randint(2, dept_count + 1)]
        if rng.random() < 0.1:
            depts.append(rng.choice([d for d in range(2, dept_count + 2) if d != depts[0]] or [1]))
        attrs = [{"type": 0, "name": "工号", "text": {"value": f"E{i:06d}"}}]
        if rng.random() < 0.3:  # an outdated 与我协作 link the sync must repair
            attrs.append({"type": 1, "name": "与我协作",
                          "web": {"url": f"https://old.example.com/home?tenantKey=old{i}", "title": "与我协作"}})
        member_list.append({"userid": f"u{i:05d}", "name": _name(rng), "department": depts,
                            "external_profile": {"external_corp_name": "压测企业", "external_attr": attrs}})
    followers = rng.sample(range(members), follow_users)
    for i in followers:
        member_list[i]["follow_user"] = True
    base_time = 1700000000
    customer_list = []
    for n in range(customers):
        ext = "wm" + _hex(seed, "customer", n)[:30]
        picks = rng.sample(followers, min(len(followers), rng.choices([1, 2, 3], weights=[70, 20, 10])[0]))
        follows = [{"userid": member_list[i]["userid"], "createtime": base_time + rng.randint(0, 10**7),
                    "add_way": rng.choice([0, 1, 2, 3])} for i in picks]
        if rng.random() < 0.8:
            customer = {"external_userid": ext, "name": _name(rng), "type": 1, "gender": rng.choice([0, 1, 2]),
                        "unionid": "oz" + _hex(seed, "union", n)[:26], "openid": "o" + _hex(seed, "open", n)[:27]}
        else:
            corp = rng.choice(CORP_NAMES)
            customer = {"external_userid": ext, "name": _name(rng), "type": 2, "gender": 0,
                        "corp_name": corp, "corp_full_name": f"{corp}有限公司"}
        customer["follow_users"] = follows
        customer_list.append(customer)
    # A few members are also customers (their personal WeChat shares the unionid): the sync must skip them.
    wechat_customers = [c for c in customer_list if c["type"] == 1]
    for member, customer in zip(rng.sample(member_list, min(10, members)), wechat_customers[:10]):
        member["unionid"] = customer["unionid"]
    chain_list = []
    for c in range(chains):
        groups = [{"groupid": 1, "group_name": "供应商", "parentid": 0, "order": 1},
                  {"groupid": 2, "group_name": "经销商", "parentid": 0, "order": 2},
                  {"groupid": 3, "group_name": "华南供应商", "parentid": 1, "order": 1},
                  {"groupid": 4, "group_name": "华东供应商", "parentid": 1, "order": 2},
                  {"groupid": 5, "group_name": "一级经销商", "parentid": 2, "order": 1}]
        corps = [{"corpid": f"wwb{c:02d}{j:06d}", "corp_name": f"{rng.choice(CORP_NAMES)}{c}-{j}",
                  "groupid": rng.randint(1, 5), "custom_id": f"C{c}-{j}",
                  "invite_userid": member_list[rng.randrange(members)]["userid"] if members else "",
                  "is_joined": rng.random() >= 0.05}
                 for j in range(corps_per_chain)]
        chain_list.append({"chain_id": f"Chbench{c:04d}", "chain_name": f"压测上下游{c}", "groups": groups,
                           "corps": corps})
    # WeCom's EncodingAESKey is 43 letters and digits; keep the 32 key bytes' encoding inside that alphabet.
    aes_key = base64.b64encode(hashlib.sha256(f"bench-{seed}".encode()).digest(), altchars=b"Ab").decode().rstrip("=")
    return {
        "settings": {"token_ttl": 7200, "token_mode": "stable", "rate_limit_per_minute": 10000},
        "corps": [{
            "corpid": corpid, "corp_name": "压测企业", "corp_full_name": "压测企业有限公司",
            "secrets": [{"kind": "contacts", "secret": "bench-contacts-secret"},
                        {"kind": "externalcontact", "secret": "bench-externalcontact-secret"},
                        {"kind": "app", "secret": "bench-app-secret", "agentid": 1000002}],
            "callback": {"token": "BenchCallbackToken", "encoding_aes_key": aes_key},
            "external_attr_names": ["与我协作", "工号"],
            "departments": departments, "members": member_list, "customers": customer_list, "chains": chain_list,
        }],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.wecom_sim.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--follow-users", type=int, default=50)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--corps-per-chain", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpid", default="wwbench0001")
    parser.add_argument("--out", required=True, help="where to write the scenario JSON")
    args = parser.parse_args(argv)
    scenario = generate(args.members, args.customers, args.follow_users, args.chains, args.corps_per_chain,
                        args.seed, args.corpid)
    Path(args.out).write_text(json.dumps(scenario, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
