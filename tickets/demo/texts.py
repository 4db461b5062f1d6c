"""What demo customers write about and what agents answer, one entry per topic.

Placeholders: {first} (customer's first name), {agent} (agent's first name), {order} (an
order number), {product} (a product name), {amount} (money), {plan}, {endpoint}.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    subject: str
    opening: str
    answer: str


@dataclass(frozen=True)
class Topic:
    slug: str
    tag: str
    team: str
    mailbox: str
    issues: tuple[Issue, ...]
    follow_ups: tuple[str, ...]  # the customer's next message
    second_answers: tuple[str, ...]  # the agent's answer to a follow-up
    notes: tuple[str, ...]


BILLING = Topic(
    slug="billing",
    tag="billing",
    team="billing",
    mailbox="billing",
    issues=(
        Issue(
            "Charged twice for order {order}",
            "Hi,\n\nI was charged {amount} twice for order {order} this morning. My bank shows "
            "two identical payments. Could you refund the duplicate, please?\n\nThanks, {first}",
            "Hi {first},\n\nthanks for flagging this. I can see the duplicate payment for "
            "{order} and have refunded it; it will show on your statement within 3-5 business "
            "days.\n\n{agent}",
        ),
        Issue(
            "Invoice needs our VAT number",
            "Hello,\n\nthe invoice for order {order} is missing our VAT number, so our "
            "accountant cannot book it. Can you reissue it with the VAT ID added?\n\n{first}",
            "Hi {first},\n\nI have reissued the invoice with your VAT ID; the new PDF is in your "
            "account under Billing > Invoices.\n\nBest, {agent}",
        ),
        Issue(
            "Refund for {product}",
            "Hi there,\n\nI returned the {product} two weeks ago and still have not seen the "
            "refund of {amount}. The tracking says it was delivered back to you.\n\n{first}",
            "Hi {first},\n\nsorry for the wait. The return was checked in yesterday and the "
            "refund of {amount} was released today; your bank may take a few days.\n\n{agent}",
        ),
        Issue(
            "Why did my {plan} plan price go up?",
            "Hi,\n\nmy renewal was {amount}, which is more than last year. I did not get any "
            "notice about a price change. Can you explain what happened?\n\nRegards, {first}",
            "Hi {first},\n\nthe {plan} price changed in March; the notice went to your old "
            "email address. As a one-off I've added a 10% credit to your next renewal.\n\n{agent}",
        ),
    ),
    follow_ups=(
        "Thanks, but I still don't see anything on my statement. Could you double-check?",
        "Great, thank you. Could you also send me the invoices for the last quarter?",
    ),
    second_answers=(
        "Hi {first},\n\nI checked with our payment provider: it was sent on our side and should "
        "arrive by Friday. I've attached the confirmation.\n\n{agent}",
        "Hi {first},\n\ndone, you'll find all of them under Billing > Invoices.\n\n{agent}",
    ),
    notes=(
        "Duplicate capture confirmed in the payment provider dashboard.",
        "Price change was announced in the March newsletter; one-off credit approved by lead.",
    ),
)

LOGIN = Topic(
    slug="login",
    tag="login",
    team="tier-1",
    mailbox="support",
    issues=(
        Issue(
            "Can't log in to my account",
            "Hi,\n\nsince yesterday I get 'invalid credentials' although I am sure the password "
            "is right. I already tried resetting it twice.\n\n{first}",
            "Hi {first},\n\nyour account had been locked by our brute-force protection. I've "
            "unlocked it and sent a fresh reset link, valid for 30 minutes.\n\n{agent}",
        ),
        Issue(
            "Password reset email never arrives",
            "Hello,\n\nI requested a password reset four times but no email arrives, not even in "
            "spam. Can you help me get back into my account?\n\n{first}",
            "Hi {first},\n\nyour mail provider was rejecting our messages. I've resent the reset "
            "email through a different route; please check again.\n\n{agent}",
        ),
        Issue(
            "2FA code not accepted",
            "Hi,\n\nthe code from my authenticator app is rejected every time. I changed phones "
            "last week, maybe that is related?\n\nThanks, {first}",
            "Hi {first},\n\nyes, the codes are tied to the old phone. I've reset your two-factor "
            "setup; on your next login you can scan a new QR code.\n\nCheers, {agent}",
        ),
        Issue(
            "Locked out after too many attempts",
            "My account says it is locked for security reasons. I need access today for a "
            "deadline, please unlock it.\n\n{first}",
            "Hi {first},\n\nI've lifted the lock, you can log in again now. If you're unsure "
            "of the password, use 'Forgot password' first.\n\n{agent}",
        ),
    ),
    follow_ups=(
        "That worked, I'm back in. Thanks!",
        "Still the same error, I'm afraid. I'm using Safari on a Mac if that helps.",
    ),
    second_answers=(
        "Hi {first},\n\nglad to hear it! I'll close this ticket then.\n\n{agent}",
        "Hi {first},\n\nSafari was blocking our login cookie. Please allow cookies for our "
        "domain or try a private window; that fixes it.\n\n{agent}",
    ),
    notes=(
        "Login attempts came from two countries within an hour; lock was justified.",
        "Customer's mailbox provider rejects our reset emails, see bounce log.",
    ),
)

SHIPPING = Topic(
    slug="shipping",
    tag="shipping",
    team="tier-1",
    mailbox="support",
    issues=(
        Issue(
            "Where is my order {order}?",
            "Hi,\n\nI ordered the {product} ten days ago and the tracking has not moved since "
            "it left your warehouse. Can you check what's going on?\n\n{first}",
            "Hi {first},\n\nthe carrier confirmed your parcel was held at the depot; it is back "
            "on its way and should arrive within two days.\n\n{agent}",
        ),
        Issue(
            "Package arrived damaged",
            "Hello,\n\nthe box for order {order} arrived crushed and the {product} inside is "
            "cracked. I've attached photos. What are my options?\n\n{first}",
            "Hi {first},\n\nsorry about that! A replacement {product} ships today, no need to "
            "send the damaged one back.\n\n{agent}",
        ),
        Issue(
            "Wrong item delivered",
            "Hi,\n\nI received a different product than the {product} I ordered ({order}). How "
            "do I send it back and get the right one?\n\nThanks, {first}",
            "Hi {first},\n\napologies for the mix-up. I've emailed you a prepaid return label "
            "and the correct {product} is already on its way.\n\n{agent}",
        ),
        Issue(
            "Change delivery address for {order}",
            "Hi,\n\nI'm moving next week. Can you still change the delivery address for order "
            "{order}? The new address is in my account profile.\n\n{first}",
            "Hi {first},\n\nI've updated the address on {order} before it left the warehouse. "
            "You will get a new tracking email shortly.\n\n{agent}",
        ),
    ),
    follow_ups=(
        "Any news? Still nothing in the tracking.",
        "Received it today, all good. Thank you!",
    ),
    second_answers=(
        "Hi {first},\n\nI've opened a claim with the carrier and sent a replacement by express; "
        "you'll have it tomorrow.\n\n{agent}",
        "Hi {first},\n\ngreat to hear, enjoy it!\n\n{agent}",
    ),
    notes=(
        "Carrier claim opened for the parcel, reference in the order notes.",
        "Warehouse confirms mis-pick; flagged the bin location.",
    ),
)

FEATURE_REQUEST = Topic(
    slug="feature-request",
    tag="feature-request",
    team="tier-2",
    mailbox="support",
    issues=(
        Issue(
            "Feature request: export to CSV",
            "Hi team,\n\nwe love the reports but really need to export them to CSV for our "
            "monthly review. Is this on the roadmap?\n\n{first}",
            "Hi {first},\n\ngood news: CSV export is planned for the next quarter. I've added "
            "your vote and will let you know when it's in beta.\n\n{agent}",
        ),
        Issue(
            "Dark mode for the app?",
            "Hey,\n\nany plans for a dark mode? I use the app a lot in the evening and the white "
            "background is harsh.\n\n{first}",
            "Hi {first},\n\nthanks for the idea! Dark mode is one of the most requested features "
            "and I've added your vote to it.\n\n{agent}",
        ),
        Issue(
            "Bulk edit would save us hours",
            "Hi,\n\nwe edit dozens of items one by one every week. A bulk edit option would "
            "save us hours. Would you consider it?\n\nThanks, {first}",
            "Hi {first},\n\nthat's a great suggestion. Until it exists, the CSV import can "
            "update many items at once; I've added your vote for bulk edit.\n\n{agent}",
        ),
        Issue(
            "Suggestion: keyboard shortcuts",
            "Hello,\n\nkeyboard shortcuts for the most common actions would make the app much "
            "faster for power users like me.\n\n{first}",
            "Hi {first},\n\nthere are already a few: press '?' anywhere to see them. I've "
            "passed your wish for more on to the product team.\n\n{agent}",
        ),
    ),
    follow_ups=(
        "Happy to test a beta if you need volunteers.",
        "Any update on this? It would really help us.",
    ),
    second_answers=(
        "Hi {first},\n\nwonderful, I've added you to the beta list.\n\n{agent}",
        "Hi {first},\n\nit's in development now; I'll write as soon as you can try it.\n\n{agent}",
    ),
    notes=("Logged as a vote on the public roadmap item.",),
)

API_ERROR = Topic(
    slug="api-error",
    tag="api",
    team="tier-2",
    mailbox="support",
    issues=(
        Issue(
            "API returns 500 on {endpoint}",
            "Hi,\n\nsince about 09:00 UTC our integration gets HTTP 500 from {endpoint} on "
            "roughly one in ten requests. Request ids are in our logs if you need them.\n\n"
            "{first}",
            "Hi {first},\n\nthanks for the details. We found a faulty node behind {endpoint} "
            "and took it out of rotation; error rates are back to normal.\n\n{agent}",
        ),
        Issue(
            "Rate limit 429 on {endpoint}",
            "Hello,\n\nwe hit 429 Too Many Requests on {endpoint} even though we stay well "
            "under the documented limit. Has something changed?\n\n{first}",
            "Hi {first},\n\nthe limit is applied per token, and two of your services share one. "
            "I've raised your limit while you split them.\n\n{agent}",
        ),
        Issue(
            "Webhook signature mismatch",
            "Hi,\n\nour webhook receiver rejects your events because the signature does not "
            "match. Did the signing secret rotate?\n\nThanks, {first}",
            "Hi {first},\n\nyes, one of your admins rotated the secret yesterday; the new one "
            "is under Settings > Webhooks.\n\n{agent}",
        ),
        Issue(
            "API token stopped working",
            "Hi,\n\nour API token returns 401 since this morning. Nobody on our side revoked "
            "it. Can you check?\n\n{first}",
            "Hi {first},\n\nthe token expired after 12 months. You can create a non-expiring "
            "one under Settings > API; the old one cannot be extended.\n\n{agent}",
        ),
    ),
    follow_ups=(
        "Confirmed, errors have stopped on our side.",
        "We're still seeing intermittent failures, here are two more request ids.",
    ),
    second_answers=(
        "Hi {first},\n\nthanks for confirming. I'll close this one.\n\n{agent}",
        "Hi {first},\n\nthose requests hit a second node with the same fault; engineering has "
        "replaced it. Please let us know if you see any more.\n\n{agent}",
    ),
    notes=(
        "Escalated to engineering; incident INC-{order} covers the errors.",
        "Customer's own admin changed the credentials, see their audit log.",
    ),
)

ONBOARDING = Topic(
    slug="onboarding",
    tag="onboarding",
    team="tier-1",
    mailbox="support",
    issues=(
        Issue(
            "How do I invite my team?",
            "Hi,\n\nI just signed up and want to add two colleagues. Where do I find the "
            "invite option?\n\n{first}",
            "Hi {first},\n\nwelcome aboard! Go to Settings > Team and click 'Invite'. They will "
            "get an email with a link.\n\n{agent}",
        ),
        Issue(
            "Getting started with the {product}",
            "Hello,\n\nmy {product} arrived yesterday. The quick-start guide skips the pairing "
            "step, what should I do?\n\n{first}",
            "Hi {first},\n\nhold the button on the back for five seconds until the light blinks "
            "blue, then open the app and tap 'Add device'.\n\n{agent}",
        ),
        Issue(
            "Which plan is right for me?",
            "Hi,\n\nI'm on the trial and not sure whether Basic or Pro fits a household of "
            "four. What's the difference in practice?\n\n{first}",
            "Hi {first},\n\nfor four people Pro is the better fit because of the shared "
            "history. You can switch any time during the trial.\n\n{agent}",
        ),
        Issue(
            "Importing my data from another tool",
            "Hi,\n\ncan I import my history from the tool I used before? I have a CSV export "
            "ready.\n\nThanks, {first}",
            "Hi {first},\n\nyes: Settings > Import accepts CSV files. Upload it there and map "
            "the columns; the import keeps the original dates.\n\n{agent}",
        ),
    ),
    follow_ups=("Found it, thanks!", "That helped. One more question: can I change it later?"),
    second_answers=(
        "Hi {first},\n\nhappy to help, enjoy getting started!\n\n{agent}",
        "Hi {first},\n\nyes, you can change it at any time from your account settings.\n\n{agent}",
    ),
    notes=("New customer, first week: keep the tone extra friendly.",),
)

CANCELLATION = Topic(
    slug="cancellation",
    tag="cancellation",
    team="billing",
    mailbox="billing",
    issues=(
        Issue(
            "Please cancel my subscription",
            "Hi,\n\nplease cancel my {plan} subscription at the end of the current period. I "
            "don't use it anymore.\n\n{first}",
            "Hi {first},\n\nI've cancelled the renewal; you keep access until the end of the "
            "period. Sorry to see you go!\n\n{agent}",
        ),
        Issue(
            "Close my account",
            "Hello,\n\nI'd like my account closed and my personal data deleted.\n\n{first}",
            "Hi {first},\n\nyour account is scheduled for deletion; you will get a confirmation "
            "email within 30 days.\n\n{agent}",
        ),
        Issue(
            "Is my subscription still active?",
            "Hi,\n\nI haven't used the service in a long time. Am I still being charged?\n\n"
            "{first}",
            "Hi {first},\n\nyour {plan} plan is still active and renews yearly. Shall I cancel "
            "it for you?\n\n{agent}",
        ),
    ),
    follow_ups=("Thanks for the quick help.", "Yes, please cancel it."),
    second_answers=(
        "Hi {first},\n\nyou're welcome. Take care!\n\n{agent}",
        "Hi {first},\n\ndone, the renewal is cancelled and you won't be charged again.\n\n{agent}",
    ),
    notes=("Offered a 3-month discount to retain; customer declined.",),
)

QUOTE = Topic(
    slug="quote",
    tag="quote",
    team="billing",
    mailbox="billing",
    issues=(
        Issue(
            "Quote for 200 seats",
            "Hello,\n\nwe are rolling out to our whole company and need a quote for 200 seats "
            "on the Business plan, billed annually, with invoice payment.\n\nBest regards, "
            "{first}",
            "Hello {first},\n\nthank you for your interest. The quote is attached; it includes "
            "a 15% volume discount and invoice payment.\n\nKind regards, {agent}",
        ),
        Issue(
            "Volume discount for {product}",
            "Hi,\n\nwe plan to order about 150 units of the {product} for our offices. Do you "
            "offer volume pricing?\n\n{first}",
            "Hello {first},\n\nfor orders above 100 units we offer tiered pricing. I've put the "
            "details in the attached quote.\n\n{agent}",
        ),
        Issue(
            "Purchase order and payment terms",
            "Hello,\n\nour procurement needs a formal quote and net-30 payment terms before "
            "they can raise a purchase order. Can you provide both?\n\n{first}",
            "Hello {first},\n\ncertainly. The attached quote states net-30 terms; please "
            "reference its number on your purchase order.\n\n{agent}",
        ),
    ),
    follow_ups=(
        "Thanks. Could you add on-site installation to the quote?",
        "Our procurement approved it, PO follows this week.",
    ),
    second_answers=(
        "Hello {first},\n\nof course, the updated quote with installation is attached.\n\n{agent}",
        "Hello {first},\n\nexcellent, we'll start provisioning as soon as the PO arrives.\n\n"
        "{agent}",
    ),
    notes=("Large account: loop in the account manager before sending the final quote.",),
)

BUG = Topic(
    slug="bug",
    tag="bug",
    team="tier-2",
    mailbox="support",
    issues=(
        Issue(
            "App crashes when I open settings",
            "Hi,\n\nthe app closes immediately whenever I tap Settings. Android 14, latest app "
            "version.\n\n{first}",
            "Hi {first},\n\nthanks for the report, we could reproduce it. A fix is in the next "
            "release; meanwhile clearing the app cache avoids the crash.\n\n{agent}",
        ),
        Issue(
            "Sync is stuck",
            "Hey,\n\nmy {product} shows 'syncing' for hours and never finishes. Restarting did "
            "not help.\n\n{first}",
            "Hi {first},\n\nwe restarted the sync for your account and it completed. Let me "
            "know if it gets stuck again.\n\n{agent}",
        ),
        Issue(
            "Dashboard shows wrong numbers",
            "Hello,\n\nthe dashboard totals don't match the detailed report; yesterday is off "
            "by about 20%.\n\n{first}",
            "Hi {first},\n\nthe dashboard was showing yesterday in UTC instead of your time "
            "zone. That's fixed now and the totals match.\n\n{agent}",
        ),
    ),
    follow_ups=(
        "That worked, thanks.",
        "Happened again this morning, here is a screenshot.",
    ),
    second_answers=(
        "Hi {first},\n\ngreat, thanks for letting us know.\n\n{agent}",
        "Hi {first},\n\nthanks, the screenshot helped: we found a second cause and fixed it "
        "too.\n\n{agent}",
    ),
    notes=("Reproduced on staging; bug filed with engineering.",),
)

TOPICS = {
    topic.slug: topic
    for topic in (
        BILLING,
        LOGIN,
        SHIPPING,
        FEATURE_REQUEST,
        API_ERROR,
        ONBOARDING,
        CANCELLATION,
        QUOTE,
        BUG,
    )
}

API_ENDPOINTS = ("/v2/orders", "/v2/customers/search", "/v2/devices/bulk", "/v2/webhooks")
