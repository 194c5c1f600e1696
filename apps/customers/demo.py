"""Demo customers (dev profile only): Chinese and English names, numbers in the simulator's style
(+86 138..., +1 415 555 01xx, Beijing landlines), a few VIPs, and some history on their timeline.

DEMO_PHONES lists the numbers in E.164 so the simulator can call as known customers.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from apps.customers.models import Channel, Customer, Direction, Interaction
from apps.customers.services import IdentityInput, customer_create

# (name, company, tier, language, timezone, phones, email, tags)
DEMO_CUSTOMERS: list[tuple[str, str, str, str, str, list[str], str, list[str]]] = [
    (
        "李伟",
        "北京华信科技",
        "vip",
        "zh-hans",
        "Asia/Shanghai",
        ["+8613800138000"],
        "li.wei@huaxin.example",
        ["enterprise"],
    ),
    (
        "王芳",
        "",
        "gold",
        "zh-hans",
        "Asia/Shanghai",
        ["+8613800138001", "+861065529988"],
        "wangfang@example.cn",
        [],
    ),
    (
        "张敏",
        "上海东方物流",
        "silver",
        "zh-hans",
        "Asia/Shanghai",
        ["+8613800138002"],
        "zhang.min@dongfang.example",
        ["logistics"],
    ),
    ("刘洋", "", "standard", "zh-hans", "Asia/Shanghai", ["+8613800138003"], "", []),
    (
        "陈静",
        "深圳创新电子",
        "gold",
        "zh-hans",
        "Asia/Shanghai",
        ["+8613800138004"],
        "chenjing@chuangxin.example",
        ["enterprise"],
    ),
    ("杨帆", "", "standard", "zh-hans", "Asia/Shanghai", ["+8613800138005"], "", []),
    (
        "赵磊",
        "",
        "standard",
        "zh-hans",
        "Asia/Shanghai",
        ["+8613800138006"],
        "zhaolei@example.cn",
        [],
    ),
    ("黄丽", "广州美家家居", "silver", "zh-hans", "Asia/Shanghai", ["+8613800138007"], "", []),
    ("周杰", "", "standard", "zh-hans", "Asia/Shanghai", ["+8613800138008"], "", ["student"]),
    (
        "吴婷",
        "",
        "vip",
        "zh-hans",
        "Asia/Shanghai",
        ["+8613800138009"],
        "wuting@example.cn",
        ["complaint-risk"],
    ),
    ("徐强", "杭州云端网络", "standard", "zh-hans", "Asia/Shanghai", ["+8613800138010"], "", []),
    ("孙悦", "", "standard", "zh-hans", "Asia/Shanghai", ["+8613800138011"], "", []),
    (
        "马超",
        "",
        "gold",
        "zh-hans",
        "Asia/Shanghai",
        ["+8613800138012", "+862161234567"],
        "machao@example.cn",
        [],
    ),
    ("朱红", "", "standard", "zh-hans", "Asia/Shanghai", ["+8613800138013"], "", []),
    ("胡军", "成都天府餐饮", "standard", "zh-hans", "Asia/Shanghai", ["+8613800138014"], "", []),
    ("郭梅", "", "silver", "zh-hans", "Asia/Shanghai", ["+8613800138015"], "", []),
    ("何平", "", "standard", "zh-hans", "Asia/Shanghai", ["+8613800138016"], "", []),
    ("林晓", "", "standard", "zh-hans", "Asia/Shanghai", ["+8613800138017"], "", []),
    (
        "高峰",
        "武汉长江制造",
        "vip",
        "zh-hans",
        "Asia/Shanghai",
        ["+8613800138018"],
        "gaofeng@changjiang.example",
        ["enterprise"],
    ),
    ("罗兰", "", "standard", "zh-hans", "Asia/Shanghai", ["+8613800138019"], "", []),
    (
        "Emma Johnson",
        "Northwind Traders",
        "gold",
        "en",
        "America/Los_Angeles",
        ["+14155550101"],
        "emma.johnson@northwind.example",
        ["enterprise"],
    ),
    ("Liam Smith", "", "standard", "en", "America/New_York", ["+12125550102"], "", []),
    (
        "Olivia Williams",
        "Contoso Ltd",
        "vip",
        "en",
        "America/Chicago",
        ["+13125550103"],
        "olivia@contoso.example",
        ["enterprise"],
    ),
    ("Noah Brown", "", "standard", "en", "America/Los_Angeles", ["+14155550104"], "", []),
    (
        "Ava Jones",
        "",
        "silver",
        "en",
        "America/New_York",
        ["+16465550105"],
        "ava.jones@example.com",
        [],
    ),
    (
        "William Garcia",
        "Fabrikam Inc",
        "standard",
        "en",
        "America/Los_Angeles",
        ["+17025550106"],
        "",
        [],
    ),
    ("Sophia Miller", "", "standard", "en", "Pacific/Honolulu", ["+18085550107"], "", []),
    (
        "James Davis",
        "",
        "gold",
        "en",
        "America/New_York",
        ["+16175550108"],
        "jdavis@example.com",
        [],
    ),
    ("Isabella Martinez", "", "standard", "en", "America/Los_Angeles", ["+12135550109"], "", []),
    (
        "Benjamin Wilson",
        "Tailspin Toys",
        "standard",
        "en",
        "America/Toronto",
        ["+19055550110"],
        "",
        [],
    ),
    ("Mia Anderson", "", "standard", "en", "America/New_York", ["+12125550111"], "", []),
    ("Lucas Thomas", "", "silver", "en", "America/Chicago", ["+13125550112"], "", []),
    (
        "Chen Hao (陈浩)",
        "Pacific Bridge Imports",
        "gold",
        "en",
        "America/Los_Angeles",
        ["+14155550113", "+8613800138020"],
        "hao.chen@pacificbridge.example",
        ["bilingual"],
    ),
    ("Amelia Taylor", "", "standard", "en", "Europe/London", ["+442079460958"], "", []),
    ("Ethan Moore", "", "standard", "en", "America/New_York", ["+16465550115"], "", []),
    ("Harper Jackson", "", "standard", "en", "America/Los_Angeles", ["+14155550116"], "", []),
]
DEMO_PHONES = [phone for row in DEMO_CUSTOMERS for phone in row[5]]

_HISTORY = [  # (days ago, channel, direction, summary)
    (30, Channel.CALL, Direction.INBOUND, "Asked about delivery times"),
    (12, Channel.EMAIL, Direction.OUTBOUND, "Sent the quotation"),
    (3, Channel.WECHAT, Direction.INBOUND, "Followed up on the order"),
]


@transaction.atomic
def seed() -> list[str]:
    """Create the demo customers and a short history for each, if missing."""
    created = 0
    now = timezone.now()
    for position, (name, company, tier, language, tz, phones, email, tags) in enumerate(
        DEMO_CUSTOMERS, start=1
    ):
        external_id = f"demo-{position:03d}"
        if Customer.objects.filter(external_id=external_id).exists():
            continue
        identities = [IdentityInput(kind="phone", value=phone) for phone in phones]
        if email:
            identities.append(IdentityInput(kind="email", value=email))
        customer = customer_create(
            actor=None,
            identities=identities,
            name=name,
            company=company,
            vip_tier=tier,
            language=language,
            timezone=tz,
            tags=tags,
            external_id=external_id,
            consent_marketing=position % 3 == 0,
        )
        Interaction.objects.bulk_create(
            Interaction(
                customer=customer,
                channel=channel,
                direction=direction,
                summary=summary,
                occurred_at=now - dt.timedelta(days=days, hours=position % 7),
            )
            for days, channel, direction, summary in _HISTORY[: 1 + position % 3]
        )
        created += 1
    total = Customer.objects.filter(external_id__startswith="demo-").count()
    return [f"  customers: {total} demo customers ({created} new), e.g. +8613800138000 (VIP)"]
