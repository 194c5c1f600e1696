"""Demo knowledge base: sales, after-sales and billing articles in English and Chinese."""

from __future__ import annotations

from django.db import transaction

from apps.accounts.models import User
from apps.knowledge import services
from apps.knowledge.models import Article, ArticleGroup, Category, Visibility

CATEGORIES = [
    # (slug, name, position)
    ("sales", "Sales / 销售咨询", 1),
    ("after-sales", "After-sales / 售后服务", 2),
    ("billing", "Billing / 账单与发票", 3),
]

# key: (category, visibility, {language: (title, summary, body, tags)})
ARTICLES: dict[str, tuple[str, str, dict[str, tuple[str, str, str, list[str]]]]] = {
    "refund-policy": (
        "after-sales",
        Visibility.PUBLIC,
        {
            "en": (
                "Refund policy",
                "Who gets a refund, how much and how fast.",
                "Customers may ask for a refund within 30 days of delivery. Unopened items are "
                "refunded in full; opened items in their original packaging are refunded minus a "
                "10% "
                "restocking fee. Refunds go back to the original payment method within 5 business "
                "days after the returned item reaches the warehouse. Shipping fees are refunded o"
                "nly "
                "when the item was faulty or we sent the wrong item.",
                ["refund", "return", "money back"],
            ),
            "zh-hans": (
                "退款政策",
                "哪些订单可以退款、退多少、多久到账。",
                "客户可在签收后30天内申请退款。未拆封商品全额退款；已拆封但包装完好的商品扣除10%的"
                "重新上架费后退款。仓库收到退回商品后5个工作日内，款项原路退回。只有在商品有质量"
                "问题"
                "或发错货时才退还运费。",
                ["退款", "退货", "退钱"],
            ),
        },
    ),
    "refund-approval-limits": (
        "after-sales",
        Visibility.INTERNAL,
        {
            "en": (
                "Refund approval limits (internal)",
                "Which refunds an agent approves alone and which need a supervisor.",
                "Agents may approve refunds up to 500 CNY on their own. Refunds between 500 and 5"
                ",000 "
                "CNY need a supervisor's approval in the ticket. Above 5,000 CNY, or for a custom"
                "er's "
                "third refund in 90 days, escalate to the after-sales manager. Never promise a re"
                "fund "
                "amount before approval.",
                ["refund", "approval", "escalation"],
            ),
            "zh-hans": (
                "退款审批权限（内部）",
                "坐席可以直接批准哪些退款，哪些需要主管审批。",
                "坐席可直接批准500元以内的退款。500元至5000元的退款需要主管在工单中审批。超过5000"
                "元，"
                "或客户90天内第三次退款，请升级给售后经理。审批前不要向客户承诺退款金额。",
                ["退款", "审批", "升级"],
            ),
        },
    ),
    "invoice-request": (
        "billing",
        Visibility.PUBLIC,
        {
            "en": (
                "Requesting an invoice",
                "Electronic and paper invoices, VAT special invoices, and how long they take.",
                "An electronic invoice is issued automatically when the order is delivered and se"
                "nt "
                "to the customer's e-mail address. A VAT special invoice needs the company name, "
                "tax "
                "number, registered address, phone and bank account; it is mailed within 7 busine"
                "ss "
                "days. Invoices can be requested up to 180 days after delivery.",
                ["invoice", "vat", "tax"],
            ),
            "zh-hans": (
                "如何开具发票",
                "电子发票、纸质发票、增值税专用发票及开票时效。",
                "订单签收后系统自动开具电子发票，并发送到客户邮箱。增值税专用发票需要提供公司名称、"
                "税号、注册地址、电话及开户行账号，7个工作日内寄出。签收后180天内均可申请开票。",
                ["发票", "增值税", "开票"],
            ),
        },
    ),
    "invoice-correction": (
        "billing",
        Visibility.PUBLIC,
        {
            "en": (
                "Correcting or reissuing an invoice",
                "Wrong company name or tax number on an invoice.",
                "If the company name or tax number on an invoice is wrong, the customer sends the "
                "correct details; we cancel the old invoice and issue a new one within 3 business "
                "days. A paper VAT invoice must be returned to us before the new one is mailed.",
                ["invoice", "reissue", "tax number"],
            ),
            "zh-hans": (
                "发票信息有误如何重开",
                "发票抬头或税号填写错误的处理方法。",
                "如发票抬头或税号有误，请客户提供正确信息，我们作废原发票并在3个工作日内重新开具。"
                "纸质增值税专用发票需先寄回原票，再寄出新票。",
                ["发票", "重开", "税号"],
            ),
        },
    ),
    "delivery-times": (
        "sales",
        Visibility.PUBLIC,
        {
            "en": (
                "Delivery times and tracking",
                "How long delivery takes and how to track a parcel.",
                "Orders placed before 4 pm ship the same day. Delivery takes 1-2 days in major ci"
                "ties "
                "and 3-5 days elsewhere. The tracking number is sent by SMS once the parcel leaves "
                "the warehouse; customers can track it on the courier's website or in the app.",
                ["delivery", "shipping", "tracking", "logistics"],
            ),
            "zh-hans": (
                "物流配送时效与查询",
                "配送需要多久，如何查询物流信息。",
                "下午4点前下单当天发货。主要城市1至2天送达，其他地区3至5天。包裹出库后会通过短信"
                "发送"
                "快递单号，客户可在快递公司官网或App中查询物流。",
                ["物流", "配送", "快递", "发货"],
            ),
        },
    ),
    "lost-parcel": (
        "after-sales",
        Visibility.INTERNAL,
        {
            "en": (
                "Lost or damaged parcels: logistics escalation (internal)",
                "When and how to open a claim with the logistics team.",
                "If tracking shows no movement for 72 hours, or the customer reports a damaged "
                "parcel with photos, create a ticket for the Logistics team with the tracking num"
                "ber. "
                "The logistics team opens a claim with the courier; the customer gets a replaceme"
                "nt "
                "or a refund within 7 days whatever the courier decides.",
                ["logistics", "lost parcel", "damaged", "escalation"],
            ),
            "zh-hans": (
                "包裹丢失或破损：转物流部门处理（内部）",
                "何时以及如何向物流部门发起理赔。",
                "物流信息72小时未更新，或客户提供照片反映包裹破损时，请创建工单转给物流组，并填写"
                "快递"
                "单号。物流组向快递公司理赔；无论理赔结果如何，7天内为客户补发或退款。",
                ["物流", "丢件", "破损", "升级"],
            ),
        },
    ),
    "change-address": (
        "sales",
        Visibility.PUBLIC,
        {
            "en": (
                "Changing the delivery address",
                "Changing where an order is delivered before or after it ships.",
                "Before the order ships, the address can be changed in the order page or by an ag"
                "ent. "
                "After it ships, the agent asks the courier to redirect the parcel; this may add "
                "one "
                "day to the delivery and is possible only within the same city.",
                ["address", "delivery", "order"],
            ),
            "zh-hans": (
                "修改收货地址",
                "订单发货前后如何修改收货地址。",
                "发货前，客户可在订单页面自行修改地址，也可由坐席代为修改。发货后，坐席可联系快递"
                "公司"
                "改派，可能延迟一天送达，且仅限同城改址。",
                ["地址", "收货", "订单"],
            ),
        },
    ),
    "payment-methods": (
        "billing",
        Visibility.PUBLIC,
        {
            "en": (
                "Accepted payment methods",
                "Cards, Alipay, WeChat Pay and bank transfer.",
                "We accept Alipay, WeChat Pay, UnionPay and international credit cards. Companies"
                " may "
                "pay by bank transfer; the order ships once the payment arrives (usually 1 busine"
                "ss "
                "day). Instalments are available with Huabei for orders above 600 CNY.",
                ["payment", "alipay", "wechat pay", "credit card"],
            ),
            "zh-hans": (
                "支付方式",
                "银行卡、支付宝、微信支付及对公转账。",
                "支持支付宝、微信支付、银联及国际信用卡。企业客户可对公转账，款项到账后发货（通常"
                "1个"
                "工作日）。订单满600元可使用花呗分期付款。",
                ["支付", "支付宝", "微信支付", "分期"],
            ),
        },
    ),
    "warranty": (
        "after-sales",
        Visibility.PUBLIC,
        {
            "en": (
                "Warranty and repairs",
                "What the one-year warranty covers and how a repair works.",
                "Every device has a one-year warranty against manufacturing defects. The customer "
                "sends the device with the order number; repairs take up to 10 business days and "
                "shipping is free both ways. Damage from drops or water is not covered.",
                ["warranty", "repair", "defect"],
            ),
            "zh-hans": (
                "保修与维修",
                "一年保修的范围及维修流程。",
                "所有设备享受一年质量保修。客户寄回设备并附上订单号，维修时间不超过10个工作日，往返"
                "运费全免。人为摔坏或进水不在保修范围内。",
                ["保修", "维修", "质量问题"],
            ),
        },
    ),
    "vip-membership": (
        "sales",
        Visibility.PUBLIC,
        {
            "en": (
                "VIP membership benefits",
                "Points, free shipping and the priority hotline.",
                "VIP members earn two points per yuan, get free express shipping on every order a"
                "nd "
                "reach the priority hotline with no queue. Membership costs 199 CNY a year and ca"
                "n be "
                "cancelled within 7 days for a full refund if no benefit was used.",
                ["vip", "membership", "points"],
            ),
            "zh-hans": (
                "VIP会员权益",
                "积分、免运费及专属热线。",
                "VIP会员每消费1元累积2积分，所有订单免费顺丰快递，并可拨打专属热线免排队。会员年"
                "费199"
                "元，开通7天内未使用权益可全额退款。",
                ["会员", "积分", "VIP"],
            ),
        },
    ),
}


def _editor() -> User | None:
    return User.objects.filter(is_superuser=True).order_by("pk").first()


@transaction.atomic
def seed() -> list[str]:
    """Create the demo categories and published articles if missing; return lines to print."""
    editor = _editor()
    categories = {}
    for slug, name, position in CATEGORIES:
        categories[slug], _created = Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "position": position}
        )
    created = 0
    for key, (category, visibility, variants) in ARTICLES.items():
        group = ArticleGroup.objects.filter(key=key).first()
        for language, (title, summary, body, tags) in variants.items():
            if group is not None and group.variants.filter(language=language).exists():
                continue
            article = services.article_create(
                actor=editor,
                language=language,
                title=title,
                summary=summary,
                body=body,
                tags=tags,
                group=group,
                key=key,
                category=categories[category],
                visibility=visibility,
            )
            services.article_publish(actor=editor, article=article)
            group = article.group
            created += 1
    total = Article.objects.filter(group__key__in=ARTICLES).count()
    return [f"  knowledge base: {total} articles ({created} new) in {len(ARTICLES)} topics"]
