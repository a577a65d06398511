"""Deterministic datasets: the same spec (and seed) always gives the same ids, names and texts.

Messages are generated lazily, per conversation, on first access, so seeding thousands of
conversations with dozens of messages each stays cheap.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from graph_client.sandbox import auth
from graph_client.sandbox.core import Core
from graph_client.sandbox.ids import instagram_mid, messenger_mid, whatsapp_mid
from graph_client.sandbox.models import (
    ALL_TASKS,
    WABA,
    Comment,
    Conversation,
    IGMedia,
    IGUser,
    Message,
    Page,
    Person,
    PhoneNumber,
    Post,
    Template,
    User,
    WAContact,
    WAMessage,
)
from graph_client.sandbox.store import Store

DEFAULT_SCOPES = [
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_metadata",
    "pages_manage_posts",
    "pages_manage_engagement",
    "pages_messaging",
    "read_insights",
    "instagram_basic",
    "instagram_manage_messages",
    "instagram_content_publish",
    "instagram_manage_insights",
    "instagram_manage_comments",
    "whatsapp_business_management",
    "whatsapp_business_messaging",
    "public_profile",
]
PAGE_NAMES = [
    ("Lucky Shrub", "Plant Nursery", "197817313562497"),
    ("Jasper's Market", "Grocery Store", "150108431712141"),
    ("Paired Socks", "Clothing Store", "186230924744328"),
    ("Cisco Dog Page", "Pet Service", "144982405562750"),
    ("Lucky Shrub Eatery", "Restaurant", "273819889375819"),
    ("Harbor Bikes", "Bicycle Shop", "150534008338515"),
]
FIRST = [
    "Sheena",
    "Pablo",
    "Aiko",
    "Jonas",
    "Maya",
    "Tomás",
    "Lena",
    "Omar",
    "Priya",
    "Chen",
    "Zoë",
    "Kwame",
    "Inés",
    "Mateo",
    "Hannah",
    "Yusuf",
    "Élodie",
    "Ravi",
    "Sofia",
    "Björn",
]
LAST = [
    "Nelson",
    "García",
    "Tanaka",
    "Weber",
    "Okafor",
    "Müller",
    "Rossi",
    "Haddad",
    "Iyer",
    "Wang",
    "Dubois",
    "Mensah",
    "Kowalski",
    "Silva",
    "Novak",
    "Sato",
    "Larsen",
    "Ahmed",
]
CUSTOMER_LINES = [
    "Hi! Do you have this in another color?",
    "Is the store open on Sunday?",
    "¿Tienen envío a México? 🚚",
    "My order hasn't arrived yet, can you check?",
    "Thanks so much, that was quick! 😊",
    "Can I change the delivery address?",
    "Merci beaucoup !",
    "What's the price for two?",
    "Do you ship internationally?",
    "Ok perfect, see you tomorrow",
]
PAGE_LINES = [
    "Hello! Thanks for reaching out. How can we help?",
    "Yes, it comes in green and terracotta.",
    "We're open 10:00 to 16:00 on Sundays.",
    "Let me check that order for you.",
    "You're welcome! Anything else?",
    "Sure, please send us the new address.",
]
POST_LINES = [
    "New arrivals this week 🌿",
    "We're hiring! Send us a message.",
    "Weekend sale: 20% off everything.",
    "Thank you for 1,000 followers!",
    "Behind the scenes at the workshop.",
    "hello world",
]


@dataclass(slots=True)
class SeedSpec:
    seed: int = 1
    pages: int = 2
    # The first N pages get an Instagram professional account.
    instagram_accounts: int = 1
    # The last N pages belong to a business portfolio: left out of /me/accounts (facts §0.3).
    business_owned_pages: int = 0
    conversations_per_page: int = 10
    ig_conversations_per_page: int = 5
    messages_per_conversation: int = 25
    # Spread message counts between 1 and 2 x messages_per_conversation.
    vary_message_counts: bool = False
    posts_per_page: int = 5
    comments_per_post: int = 2
    ig_media_per_account: int = 5
    whatsapp_accounts: int = 1
    phone_numbers_per_account: int = 1
    templates_per_account: int = 4
    wa_contacts_per_number: int = 3
    # Subscribe the app to every Page's and WABA's webhooks (as the app's connect flow would).
    subscribed: bool = False
    # Seeded times are spread backwards from here (default: now, rounded down to the minute).
    anchor_time: float | None = None
    scopes: list[str] = field(default_factory=lambda: list(DEFAULT_SCOPES))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeedSpec:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known - {"preset"}
        if unknown:
            raise ValueError(f"unknown seed fields: {sorted(unknown)}; known: {sorted(known)}")
        return cls(**{k: v for k, v in data.items() if k in known})


DEMO = SeedSpec(
    seed=2026,
    pages=2,
    instagram_accounts=1,
    business_owned_pages=1,
    conversations_per_page=8,
    ig_conversations_per_page=4,
    messages_per_conversation=14,
    vary_message_counts=True,
    posts_per_page=6,
    comments_per_post=3,
    ig_media_per_account=6,
    whatsapp_accounts=1,
    phone_numbers_per_account=1,
    templates_per_account=5,
    wa_contacts_per_number=4,
)


def _h(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")


class Seeder:
    def __init__(self, core: Core, spec: SeedSpec) -> None:
        self.core = core
        self.spec = spec
        self.store = Store(core.config.app_id, core.config.app_name, spec.seed)
        self.ids = self.store.ids
        self.anchor = spec.anchor_time if spec.anchor_time is not None else core.now() // 60 * 60

    def run(self) -> Store:
        spec, store = self.spec, self.store
        store.materializer = self.materialize
        user = User(
            id=self.ids.numeric("user", digits=17),
            name="Dana Demo",
            first_name="Dana",
            last_name="Demo",
            email="dana.demo@example.com",
        )
        store.users[user.id] = user
        store.add(user.id, user)
        business_id = self.ids.numeric("business", digits=16)
        user.business_ids.append(business_id)
        for index in range(spec.pages):
            page = self._page(index, user)
            if index >= spec.pages - spec.business_owned_pages:
                page.business_id = business_id
            if index < spec.instagram_accounts:
                self._instagram(index, page)
            self._conversations(index, page, "messenger", spec.conversations_per_page)
            if page.ig_user_id:
                self._conversations(index, page, "instagram", spec.ig_conversations_per_page)
            self._posts(index, page)
        for index in range(spec.whatsapp_accounts):
            self._waba(index, user, business_id)
        token = auth.issue_user_token(
            store,
            user.id,
            list(spec.scopes),
            self.anchor - 86400,
            long_lived=True,
            value=self.ids.token("user", user.id),
        )
        store.demo_user_id = user.id
        store.demo_token = token.value
        store.seed_summary = {"spec": asdict(spec)}
        return store

    # --- Pages ---------------------------------------------------------------------------------

    def _page(self, index: int, user: User) -> Page:
        name, category, category_id = PAGE_NAMES[index % len(PAGE_NAMES)]
        if index >= len(PAGE_NAMES):
            name = f"{name} {index // len(PAGE_NAMES) + 1}"
        page = Page(
            id=self.ids.numeric("page", index),
            name=name,
            category=category,
            category_id=category_id,
            created_time=self.anchor - 400 * 86400,
            about=f"{name}: sandbox Page {index + 1}.",
            phone="+1 631-555-5555" if index % 2 == 0 else None,
            website=f"https://{name.lower().replace(' ', '').replace(chr(39), '')}.example.com/",
            fan_count=40 + _h(self.spec.seed, "fans", index) % 5000,
        )
        page.followers_count = page.fan_count + _h(self.spec.seed, "followers", index) % 50
        if self.spec.subscribed:
            page.subscribed_apps[self.store.app.id] = [
                "messages",
                "message_echoes",
                "message_deliveries",
                "message_reads",
                "message_reactions",
                "messaging_postbacks",
                "feed",
            ]
        user.page_tasks[page.id] = list(ALL_TASKS)
        self.store.add(page.id, page)
        return page

    def _instagram(self, index: int, page: Page) -> None:
        handle = "".join(ch for ch in page.name.lower() if ch.isalnum())
        ig = IGUser(
            id="1784" + self.ids.numeric("ig", index, digits=13),
            ig_id=int(self.ids.numeric("igid", index, digits=10)),
            page_id=page.id,
            username=handle,
            name=page.name,
            biography=f"{page.name} on Instagram",
            website=page.website,
            followers_count=100 + _h("igf", index) % 9000,
            follows_count=_h("igfl", index) % 500,
            profile_picture_url=f"https://scontent.cdninstagram.com/v/t51/{handle}.jpg",
        )
        page.ig_user_id = ig.id
        self.store.add(ig.id, ig)
        kinds = [("IMAGE", "FEED"), ("VIDEO", "REELS"), ("CAROUSEL_ALBUM", "FEED")]
        for m in range(self.spec.ig_media_per_account):
            media_type, product = kinds[m % len(kinds)]
            media_id = "179" + self.ids.numeric("igmedia", index, m, digits=14)
            shortcode = "C" + self.ids.hex_id("sc", index, m)[:10]
            path = "reel" if product == "REELS" else "p"
            url = f"https://scontent.cdninstagram.com/v/t51/{media_id}.jpg"
            media = IGMedia(
                id=media_id,
                ig_user_id=ig.id,
                media_type=media_type,
                media_product_type=product,
                timestamp=self.anchor - (m + 1) * 2 * 86400,
                caption=POST_LINES[m % len(POST_LINES)],
                media_url=url,
                thumbnail_url=url if media_type == "VIDEO" else None,
                permalink=f"https://www.instagram.com/{path}/{shortcode}/",
                shortcode=shortcode,
                like_count=_h("iglike", index, m) % 300,
                comments_count=_h("igcom", index, m) % 20,
            )
            ig.media.append(media)
            self.store.add(media.id, media)

    def _person(self, page_index: int, page: Page, platform: str, c: int) -> Person:
        first = FIRST[_h(self.spec.seed, platform, page_index, c, "f") % len(FIRST)]
        last = LAST[_h(self.spec.seed, platform, page_index, c, "l") % len(LAST)]
        kind = "igsid" if platform == "instagram" else "psid"
        person = Person(
            id=self.ids.numeric(kind, page_index, c, digits=16),
            platform=platform,
            page_id=page.id,
            name=f"{first} {last}",
            first_name=first,
            last_name=last,
            profile_pic=f"https://platform-lookaside.fbsbx.com/platform/profilepic/?psid={c}",
        )
        if platform == "instagram":
            handle = "".join(ch for ch in f"{first}.{last}".lower() if ch.isascii())
            person.username = f"{handle}{c}"
            person.follower_count = _h("igfc", page_index, c) % 2000
            person.is_user_follow_business = c % 2 == 0
            person.is_business_follow_user = c % 5 == 0
        self.store.add(person.id, person)
        return person

    def _conversations(self, page_index: int, page: Page, platform: str, count: int) -> None:
        spec = self.spec
        for c in range(count):
            person = self._person(page_index, page, platform, c)
            number = self.ids.numeric("conv", platform, page_index, c, digits=15)
            if platform == "instagram":
                conv_id = base64.urlsafe_b64encode(f"ig_t:{number}".encode()).decode().rstrip("=")
            else:
                conv_id = f"t_{number}"
            folder = "inbox"
            if c % 10 == 7:
                folder = "page_done"
            elif c % 10 == 9 and platform == "messenger":
                folder = "other"
            n = spec.messages_per_conversation
            if spec.vary_message_counts:
                n = 1 + _h(spec.seed, "count", conv_id) % max(1, 2 * n)
            updated = self.anchor - c * 4637 - _h("gap", conv_id) % 900
            conv = Conversation(
                id=conv_id,
                page_id=page.id,
                platform=platform,
                person_id=person.id,
                folder=folder,
                updated_time=updated,
                unread_count=(1 + c % 2) if c % 3 == 0 and n > 0 else 0,
                seeded_count=n,
                seed_index=c,
            )
            page.conversations.append(conv)
            self.store.add(conv.id, conv)

    def materialize(self, conv: Conversation) -> list[Message]:
        """The seeded messages of ``conv``, oldest first; the last one is from the person when
        the conversation is unread."""
        n = conv.seeded_count
        step = 97 + _h("step", conv.id) % 600
        mid = instagram_mid if conv.platform == "instagram" else messenger_mid
        messages = []
        for seq in range(n):
            from_page = _h("who", conv.id, seq) % 2 == 1
            if seq == n - 1:
                from_page = conv.unread_count == 0 and conv.seed_index % 2 == 1
            lines = PAGE_LINES if from_page else CUSTOMER_LINES
            messages.append(
                Message(
                    id=mid(conv.id, seq),
                    conversation_id=conv.id,
                    seq=seq,
                    created_time=conv.updated_time - (n - 1 - seq) * step,
                    from_page=from_page,
                    text=lines[_h("text", conv.id, seq) % len(lines)],
                    app_id=self.core.config.app_id if from_page else None,
                )
            )
        return messages

    def _posts(self, page_index: int, page: Page) -> None:
        for p in range(self.spec.posts_per_page):
            number = self.ids.numeric("post", page_index, p, digits=17)
            created = self.anchor - (p + 1) * 86400 - _h("pt", page_index, p) % 40000
            post = Post(
                id=f"{page.id}_{number}",
                page_id=page.id,
                created_time=created,
                message=POST_LINES[_h("pm", page_index, p) % len(POST_LINES)],
                shares=_h("ps", page_index, p) % 4,
                reactions={
                    k: v
                    for k, v in (
                        ("like", _h("pl", page_index, p) % 12),
                        ("love", _h("pv", page_index, p) % 4),
                    )
                    if v
                },
            )
            if p % 3 == 1:
                post.status_type = "added_photos"
                post.full_picture = f"https://scontent.xx.fbcdn.net/v/t39/{number}_n.jpg"
            for k in range(self.spec.comments_per_post):
                first = FIRST[_h("cf", page_index, p, k) % len(FIRST)]
                last = LAST[_h("cl", page_index, p, k) % len(LAST)]
                comment = Comment(
                    id=f"{number}_{self.ids.numeric('comment', page_index, p, k, digits=16)}",
                    post_id=post.id,
                    message=CUSTOMER_LINES[_h("cm", page_index, p, k) % len(CUSTOMER_LINES)],
                    from_id=self.ids.numeric("fan", first, last, digits=17),
                    from_name=f"{first} {last}",
                    created_time=created + (k + 1) * 600,
                    like_count=_h("clc", page_index, p, k) % 5,
                )
                post.comments.append(comment)
                self.store.add(comment.id, comment)
            page.posts.append(post)
            self.store.add(post.id, post)

    # --- WhatsApp --------------------------------------------------------------------------------

    def _waba(self, index: int, user: User, business_id: str) -> None:
        brand = PAGE_NAMES[index % len(PAGE_NAMES)][0]
        waba = WABA(
            id=self.ids.numeric("waba", index),
            name=f"{brand} WhatsApp",
            business_id=business_id,
            message_template_namespace=self.ids.hex_id("ns", index)[:8]
            + "_"
            + self.ids.hex_id("ns2", index)[:4],
        )
        if self.spec.subscribed:
            waba.subscribed_apps[self.store.app.id] = ["messages", "message_template_status_update"]
        user.waba_ids.append(waba.id)
        self.store.add(waba.id, waba)
        for n in range(self.spec.phone_numbers_per_account):
            self._phone(index, n, waba, brand)
        for t, template in enumerate(self._templates(waba)):
            if t >= self.spec.templates_per_account:
                break
            waba.templates.append(template)
            self.store.add(template.id, template)

    def _phone(self, index: int, n: int, waba: WABA, brand: str) -> None:
        digits = f"{_h('phone', index, n) % 10**4:04d}"
        phone = PhoneNumber(
            id=self.ids.numeric("phone", index, n),
            waba_id=waba.id,
            display_phone_number=f"+1 555-01{n % 10}-{digits}",
            verified_name=brand,
            quality_rating="GREEN" if n == 0 else "NA",
            profile={
                "about": "Succulent specialists!",
                "address": "1 Hacker Way, Menlo Park, CA 94025",
                "description": f"{brand}: ask us anything.",
                "email": "hello@example.com",
                "profile_picture_url": f"https://pps.whatsapp.net/v/t61/{index}{n}.jpg",
                "websites": ["https://www.example.com/"],
                "vertical": "RETAIL",
            },
        )
        waba.phone_numbers.append(phone)
        self.store.add(phone.id, phone)
        for k in range(self.spec.wa_contacts_per_number):
            first = FIRST[_h("waf", index, n, k) % len(FIRST)]
            last = LAST[_h("wal", index, n, k) % len(LAST)]
            wa_id = f"1650555{_h('wa', index, n, k) % 10**4:04d}"
            last_in = self.anchor - k * 3 * 3600
            phone.contacts[wa_id] = WAContact(wa_id, f"{first} {last}", last_in)
            for j, (inbound, kind) in enumerate(((True, "text"), (False, "text"))):
                ts = last_in - 600 + j * 300
                message = WAMessage(
                    id=whatsapp_mid("seed", phone.id, wa_id, j),
                    phone_number_id=phone.id,
                    wa_id=wa_id,
                    inbound=inbound,
                    type=kind,
                    timestamp=ts,
                    body={"body": (CUSTOMER_LINES if inbound else PAGE_LINES)[k % 6]},
                    status="read" if not inbound else "received",
                )
                phone.messages[message.id] = message

    def _templates(self, waba: WABA) -> list[Template]:
        catalogue: list[tuple[str, str, str, str, str, list[dict[str, Any]]]] = [
            ("reservation_confirmation", "en_US", "UTILITY", "APPROVED", "NAMED", _RESERVATION),
            ("order_update", "en_US", "UTILITY", "APPROVED", "POSITIONAL", _ORDER_UPDATE),
            ("coupon_expiration_reminder", "en", "MARKETING", "APPROVED", "POSITIONAL", _COUPON),
            ("address_update", "en_US", "UTILITY", "PENDING", "POSITIONAL", _ADDRESS),
            ("summer_sale_rejected", "en", "MARKETING", "REJECTED", "POSITIONAL", _SALE),
        ]
        extra = max(0, self.spec.templates_per_account - len(catalogue))
        for k in range(extra):
            body = [{"type": "BODY", "text": f"Notice {k}: your appointment is on {{{{1}}}}."}]
            catalogue.append(
                (f"utility_notice_{k}", "en_US", "UTILITY", "APPROVED", "POSITIONAL", body)
            )
        out = []
        for name, language, category, status, fmt, components in catalogue:
            template = Template(
                id=self.ids.numeric("template", waba.id, name, digits=16),
                waba_id=waba.id,
                name=name,
                language=language,
                category=category,
                status=status,
                components=components,
                created_at=self.anchor - 30 * 86400,
                parameter_format=fmt,
                sub_category="CUSTOM" if category == "MARKETING" else None,
                rejected_reason="INVALID_FORMAT" if status == "REJECTED" else None,
            )
            out.append(template)
        return out


def seed(core: Core, spec: SeedSpec) -> None:
    core.store = Seeder(core, spec).run()


_RESERVATION: list[dict[str, Any]] = [
    {
        "type": "HEADER",
        "format": "IMAGE",
        "example": {"header_handle": ["https://scontent.whatsapp.net/v/t61/reservation.jpg"]},
    },
    {
        "type": "BODY",
        "text": "*You're all set!*\n\nYour reservation for {{number_of_guests}} at Lucky Shrub "
        "Eatery on {{day}}, {{date}}, at {{time}}, is confirmed. See you then!",
        "example": {
            "body_text_named_params": [
                {"param_name": "number_of_guests", "example": "4"},
                {"param_name": "day", "example": "Saturday"},
                {"param_name": "date", "example": "August 30th, 2025"},
                {"param_name": "time", "example": "7:30 pm"},
            ]
        },
    },
    {"type": "FOOTER", "text": "Lucky Shrub Eatery: The Luckiest Eatery in Town!"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "URL", "text": "Change reservation", "url": "https://www.example.com/r"},
            {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+16467043595"},
            {"type": "QUICK_REPLY", "text": "Cancel reservation"},
        ],
    },
]
_ORDER_UPDATE: list[dict[str, Any]] = [
    {
        "type": "BODY",
        "text": "Hi {{1}}, your order {{2}} has shipped.",
        "example": {"body_text": [["Pablo", "#1042"]]},
    }
]
_COUPON: list[dict[str, Any]] = [
    {
        "type": "HEADER",
        "format": "TEXT",
        "text": "Act fast, {{1}}!",
        "example": {"header_text": ["Pablo"]},
    },
    {
        "type": "BODY",
        "text": "Just a quick reminder—your exclusive coupon code, {{1}}, *expires in only {{2}} "
        "days!* Happy shopping! 😃",
        "example": {"body_text": [["SUMMER20", "10"]]},
    },
    {"type": "FOOTER", "text": "Lucky Shrub Succulents"},
]
_ADDRESS: list[dict[str, Any]] = [
    {
        "type": "BODY",
        "text": "Hi {{1}}, please confirm your new address: {{2}}.",
        "example": {"body_text": [["Pablo", "1 Hacker Way"]]},
    }
]
_SALE: list[dict[str, Any]] = [
    {"type": "BODY", "text": "{{1}}{{2}} off this summer!", "example": {"body_text": [["20", "%"]]}}
]
