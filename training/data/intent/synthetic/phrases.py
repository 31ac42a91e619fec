"""Shared phrase tables for the synthetic corpus: slot values, per-trait clauses, and per-platform dressing.

Data only; `generate.py` composes. Clauses are lowercase, without final punctuation unless they are questions.
Where a list is split by sentiment the label travels with the clause, so the generator never guesses it.
"""

from __future__ import annotations

from .industries import APP, BILLING, ORDERS, OUTAGE, TECH, TRAVEL, VENUE

NEG, NEU, POS = "negative", "neutral", "positive"

# ---------------------------------------------------------------------------------------------- slot values
SLOT_VALUES: dict[str, tuple[str, ...]] = {
    "days": (
        "3 days",
        "4 days",
        "5 days",
        "a week",
        "9 days",
        "10 days",
        "two weeks",
        "over a week",
        "6 days",
        "3 wks",
    ),
    "weeks": ("2 weeks", "three weeks", "a month", "6 weeks", "3 wks", "two months", "5 weeks", "nearly a month"),
    "hours": ("2 hours", "2 hrs", "3 hours", "an hour and a half", "4 hours", "90 minutes", "5 hrs", "over an hour"),
    "mins": ("45 minutes", "40 mins", "an hour", "25 min", "90 minutes", "35 minutes", "50 mins", "20 minutes"),
    "date": ("9/6", "the 14th", "friday", "saturday", "june 3rd", "12/09", "the 21st", "monday", "3/15", "aug 1"),
    "time": ("07:42", "8:15", "17:10", "6am", "18:03", "7.30", "22:15", "9am"),
    "city": (
        "Manchester",
        "Leeds",
        "Chicago",
        "Austin",
        "Dublin",
        "Lisbon",
        "Glasgow",
        "Toronto",
        "Bristol",
        "Denver",
        "Madrid",
        "Birmingham",
        "Melbourne",
        "Cardiff",
        "Atlanta",
        "Newcastle",
    ),
    "country": (
        "Spain",
        "Canada",
        "Ireland",
        "Germany",
        "Australia",
        "the US",
        "Portugal",
        "Japan",
        "Mexico",
        "France",
    ),
    "month": ("january", "march", "april", "may", "june", "july", "august", "september", "october", "december"),
    "shoe": ("8", "9", "10", "11", "12", "9.5", "UK 7", "US 10.5", "44", "13"),
    "shoe2": ("7", "10", "11.5", "12", "UK 8", "45"),
    "clothing_size": ("XS", "S", "M", "L", "XL", "XXL", "a 10", "a 14", "medium", "large"),
    "clothing_size2": ("S", "M", "L", "XL", "a 12", "small"),
    "garment": (
        "shirt",
        "jacket",
        "hoodie",
        "sneakers",
        "trainers",
        "kicks",
        "tracksuit",
        "joggers",
        "shorts",
        "cap",
        "jersey",
        "tracksuit top",
        "windbreaker",
        "gilet",
        "football shirt",
    ),
    "garments": (
        "sneakers",
        "trainers",
        "kicks",
        "joggers",
        "shorts",
        "boots",
        "leggings",
        "running shoes",
        "slides",
        "track pants",
    ),
    "occasion": ("summer", "holiday", "the festival", "my trip to {city}", "the half marathon", "winter", "uni"),
    "activity": (
        "the gym",
        "standing all day at work",
        "trail running",
        "5-a-side",
        "netball",
        "walking the dog",
        "my first marathon",
        "hot yoga",
        "a 12 hour shift",
    ),
    "budget": ("$100", "£150", "€200", "$300", "£80", "$1,000", "£500", "€120"),
    "spend": ("$2k", "$800", "£4,500", "€1,200", "$15k", "£600"),
    "qty": ("12", "25", "40", "60", "120", "150", "300", "500", "1,200", "2,000", "80", "35"),
    "n": ("2", "3", "4", "5", "6", "8", "10", "12"),
    "year": ("2026",),
    "os": ("android 14", "an older iPad", "chromebook", "iOS 17", "a Fire tablet", "windows", "linux"),
    "relative": ("son", "daughter", "mum", "dad", "husband", "wife", "partner", "nephew", "grandad", "sister"),
    "weekday": ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    "pct": ("20", "25", "30", "40", "50", "60", "70"),
    "name": ("Sam", "Priya", "Jordan", "Alex", "Maria", "Tom", "Aisha", "Chris", "Leah", "Dev", "Kate", "Marcus"),
    "agent": ("Jess", "Omar", "Beth", "Liam", "Nina", "Raj", "Ellie", "Dan"),
    "person": ("Dana Whitfield", "Marco Ruiz", "Helen Osei", "Tobias Lindqvist", "Grace Okafor", "Ian Mercer"),
    "player": ("Okafor", "the new signing", "our keeper", "Danny Reyes", "the captain", "Silva"),
}
CURRENCIES: tuple[str, ...] = ("$", "£", "€")
FIRST_NAMES: tuple[str, ...] = (
    "jess",
    "mike",
    "tash",
    "ryan",
    "sofia",
    "dan",
    "amara",
    "lee",
    "kat",
    "josh",
    "mo",
    "ella",
    "ben",
    "zara",
    "tyler",
    "nia",
)
HANDLE_SUFFIXES: tuple[str, ...] = (
    "_",
    "x",
    "92",
    "_m",
    "_uk",
    "1987",
    "tweets",
    "_official",
    "b",
    "07",
    "__",
    "_runs",
)
INITIALS: tuple[str, ...] = ("^JK", "^AB", "^MR", "^SL", "-Jess", "-Omar", "^TP", "^EH", "-Nina", "^DC")

# ---------------------------------------------------------------------------------------------- complaints
# Trait-level complaint clauses; industries add their own (industries.Industry.problems).
TRAIT_PROBLEMS: dict[str, tuple[str, ...]] = {
    ORDERS: (
        "my order still hasn't arrived",
        "order {order} still hasn't arrived and it's been {days}",
        "tracking hasn't moved in {days}",
        "paid for next day delivery and it's been {days}",
        "it says delivered but nothing's here",
        "i got the wrong item and the return costs me {amount}",
        "the box arrived empty",
        "half my order is missing",
        "my refund still hasn't come through after {weeks}",
        "the return label link just errors",
        "you cancelled my order and kept the money",
        "my parcel was left on the doorstep in the rain",
        "ordered {product} and got something completely different",
        "the item arrived damaged and nobody replies to my emails",
        "the courier says you never handed my parcel over",
        "my order was marked delivered at a house across town",
        "still no dispatch email {days} after ordering",
        "you sent the refund for one item when i returned three",
    ),
    APP: (
        "the app keeps crashing since the update",
        "can't log in, the code never arrives",
        "the app is stuck on the loading screen",
        "the app logged me out and now says my password is wrong",
        "checkout fails every time with 'something went wrong'",
        "the new update wiped my saved details",
        "the app won't open at all since yesterday",
        "the app keeps asking me to verify my email that's already verified",
        "the website has been throwing errors all morning",
        "your password reset link expires before it even loads",
    ),
    BILLING: (
        "i was charged twice",
        "you charged me after i cancelled",
        "my bill went up without any notice",
        "the direct debit came out twice this month",
        "still waiting for a refund of {amount}",
        "the promo price was never applied",
        "charged {amount} for something i never ordered",
        "billed for a month after closing my account",
        "you took {amount} out of my account without asking",
        "my card was charged twice for the same thing",
    ),
    OUTAGE: (
        "it's been down since this morning",
        "the service has been down all day and i'm still paying for it",
        "down again, third time this week",
        "everything's been down for {hours} and not a word from you",
        "outage in {city} since last night and nobody is saying anything",
        "the service drops every single evening",
    ),
    TRAVEL: (
        "delayed {hours} with no explanation",
        "cancelled last minute and zero help rebooking",
        "nobody at the desk to help anyone",
        "my refund for the cancelled trip still hasn't arrived after {weeks}",
        "the booking i paid for doesn't exist in your system",
    ),
    VENUE: (
        "the staff at the {city} branch were incredibly rude",
        "waited {mins} to be served and walked out",
        "the {city} store closed early with no notice",
        "the card machine was down and they wouldn't take cash either",
        "the manager at the {city} branch laughed at my complaint",
    ),
}
SUPPORT_PROBLEMS: tuple[str, ...] = (
    "i've been on hold for {hours}",
    "i've been on hold {hours} and then got cut off",
    "your chatbot keeps sending me in circles",
    "nobody has replied to my email in {days}",
    "i've been transferred 4 times and still no answer",
    "i dm'd you {days} ago and nothing",
    "my ticket got closed without anyone fixing anything",
    "every agent tells me something different",
    "the callback you promised never happened",
    "live chat has said 'an agent will be with you shortly' for {hours}",
    "customer service put the phone down on me",
    "i've explained this to 6 different people now",
)
# Complaints phrased as questions: still grievances (GUIDE rule 2).
COMPLAINT_QUESTIONS: dict[str, tuple[str, ...]] = {
    ORDERS: (
        "why has my refund still not arrived after {weeks}??",
        "where is my order?? it's been {days}",
        "how is it that i paid for next day and it's still not here?",
        "why does tracking say delivered when nothing came??",
        "what's the point of express shipping if it takes {days}?",
        "how do you lose a parcel twice?",
        "why was my order cancelled with no email??",
    ),
    BILLING: (
        "how is it that my card was charged twice?",
        "why am i still being billed after cancelling??",
        "why did my bill go up {amount} without a word?",
        "where's the {amount} you owe me?",
        "why is it so hard to get a refund from you?",
    ),
    APP: (
        "why does the app keep crashing every time i open it??",
        "why can't i log in?? been trying for {hours}",
        "why does every update break something?",
        "seriously why is the app still broken?",
    ),
    OUTAGE: (
        "why is it down AGAIN?",
        "how many outages this month before you actually fix it?",
        "why am i paying full price for a service that's down half the week?",
    ),
    TRAVEL: (
        "why was it cancelled with no notice?",
        "how is a {hours} delay acceptable with zero updates?",
        "why is nobody at the desk when hundreds of us are stuck?",
    ),
    VENUE: ("why was the {city} store shut during opening hours??", "how hard is it to get an order right?"),
}
SUPPORT_COMPLAINT_QUESTIONS: tuple[str, ...] = (
    "is anyone actually going to answer me?",
    "how many more times do i have to call about this?",
    "why is it impossible to speak to a human?",
    "how is {hours} on hold acceptable?",
    "do you actually read your dms?",
    "what do i have to do to get a reply?",
)
# Sarcastic frames: the meaning is the grievance (GUIDE rule 6). {sarc} is a noun phrase of a failure.
SARCASM_FRAMES: tuple[str, ...] = (
    "{sarc}. great job guys",
    "{sarc}. well done {brand} 👏",
    "nothing says customer first like {sarc}",
    "wow {brand}, {sarc}. truly world class",
    "{sarc}. 10/10 would recommend... not",
    "{brand} never fails to disappoint. {sarc}",
    "oh good, {sarc}. exactly what i needed today",
    "so glad i pay extra for {sarc}",
    "five stars for {sarc} i guess",
    "living the dream: {sarc}. cheers {brand}",
    "another day, another fail: {sarc}. thanks {brand}",
    "{sarc}. love that for me",
    "{sarc}. amazing service as always {handle}",
    "really loving {sarc} {handle} 🙃",
    "{sarc}. you've outdone yourselves {brand}",
    "shoutout to {brand} for {sarc}. legends",
)
SARCASM_THANKS: dict[str, tuple[str, ...]] = {
    ORDERS: (
        "losing my parcel",
        "delivering my order to a random house",
        "taking {weeks} to refund me",
        "the empty box",
    ),
    BILLING: ("charging me twice", "billing me after i cancelled", "the surprise price rise"),
    APP: ("breaking the app again", "logging me out every single day", "an update that deleted everything"),
    OUTAGE: ("cutting out right before my deadline", "another evening offline"),
    TRAVEL: ("losing my bag again", "cancelling with 5 minutes' notice", "the {hours} delay"),
    VENUE: ("the {mins} queue", "the warm welcome from your rude staff"),
}
SARCASM_THANKS_FRAMES: tuple[str, ...] = (
    "thanks {handle} for {thanks}",
    "cheers {brand} for {thanks} 🙃",
    "big thanks to {brand} for {thanks}. really",
    "appreciate you {handle}, {thanks} was just what i needed",
)
LOVE_WAITING: tuple[str, ...] = (
    "love waiting {mins} for 'express' delivery 🙃",
    "love paying {amount} a month for a service that's down every evening",
    "love being on hold for {hours}, the music is great",
    "nothing like a 'quick' refund that takes {weeks}",
    "love how the app updates itself into not working",
    "gotta love a 'premium' service with no working support line",
)
# What turns up after a complaint clause.
COMPLAINT_ADDONS: tuple[str, ...] = (
    "third time this month",
    "been a customer for {n} years",
    "i've called {n} times",
    "nobody has an answer",
    "and i'm still paying for it",
    "still no email",
    "not one update",
    "the chat just says to wait",
    "second time this year",
    "i have the screenshots",
    "and the helpline is closed",
    "no apology, nothing",
)
COMPLAINT_CLOSERS_NEG: tuple[str, ...] = (
    "sort it out",
    "absolutely ridiculous",
    "this is a joke",
    "not good enough",
    "i want a refund",
    "never again",
    "done with you",
    "beyond frustrated",
    "unacceptable",
    "smh",
    "wtf",
    "so annoyed rn",
    "fuming",
    "worst customer service ever",
    "do better",
    "cancelling as soon as i can",
    "i'm sick of this",
    "how is this ok",
    "shocking",
    "pathetic tbh",
)
COMPLAINT_CLOSERS_NEU: tuple[str, ...] = (
    "any update?",
    "can someone help?",
    "please advise",
    "can you look into it?",
    "can someone get back to me?",
    "what's going on?",
    "please respond",
    "who do i speak to?",
    "what are my options?",
    "fix it pls",
)
# Short complaints: a handle and a few words.
SHORT_COMPLAINTS: tuple[str, ...] = (
    "still waiting",
    "where's my refund",
    "charged twice??",
    "down again",
    "hello?? anyone??",
    "worst service ever",
    "still nothing",
    "this is ridiculous",
    "nobody answers",
    "day {n} without service",
    "{n}th email, no reply",
    "refund pls",
    "still broken",
    "answer your phones",
)

# ---------------------------------------------------------------------------------------------- questions
TRAIT_QUESTIONS: dict[str, tuple[str, ...]] = {
    APP: (
        "how do i change my email address?",
        "is the app down or is it just me?",
        "how do i reset my password?",
        "how do i turn off notifications?",
        "does the app work on {os}?",
        "how do i delete my account?",
        "where do i find my receipts in the app?",
        "how do i update my payment card?",
        "can i use the same account on two devices?",
        "how do i turn on dark mode?",
        "is the website down?",
        "how do i change the language in the app?",
    ),
    ORDERS: (
        "can i change the delivery address on order {order}?",
        "how do i return an item?",
        "can i add to an order i already placed?",
        "what's the returns window?",
        "do you deliver on sundays?",
        "can i cancel order {order}? placed it by mistake",
        "how do i get a gift receipt?",
        "can i pick a delivery day?",
    ),
    BILLING: (
        "how do i update my card details?",
        "where do i find my invoices?",
        "when does my billing date reset?",
        "can i switch to annual billing?",
        "how do i get a VAT invoice?",
        "can i pay by bank transfer?",
    ),
    OUTAGE: ("is there an outage right now?", "is {brand} down?", "any known issues in {city} today?"),
    TRAVEL: (
        "can i change my booking date online?",
        "what's the cancellation policy?",
        "how do i get a receipt for my booking?",
    ),
    VENUE: (
        "what are your opening hours on bank holidays?",
        "is there parking at the {city} store?",
        "is the {city} branch wheelchair accessible?",
        "are you open on boxing day?",
    ),
    TECH: (
        "is there an official terraform provider?",
        "where are the API rate limits documented?",
        "how do i get audit logs exported to our SIEM?",
    ),
}
FEATURE_REQUESTS: tuple[str, ...] = (
    "can you add dark mode to the app?",
    "any plans to support {os}?",
    "would love a csv export option, is that coming?",
    "can you add apple pay?",
    "will you bring back the old layout as an option?",
    "can you add a way to split payments?",
    "any chance of a widget for the home screen?",
    "please can we get two-factor by app instead of sms?",
)
QUESTION_OPENERS: tuple[str, ...] = (
    "quick question:",
    "hi,",
    "hey {brand},",
    "hello,",
    "hi there,",
    "",
    "",
    "",
    "sorry if this is obvious but",
    "does anyone know,",
    "question for {brand}:",
)
QUESTION_CLOSERS: tuple[str, ...] = (
    "thanks!",
    "cheers",
    "tried the help page but couldn't find it",
    "thanks in advance",
    "ty",
    "",
    "",
    "",
    "appreciate it",
)
SHORT_QUESTIONS: tuple[str, ...] = (
    "is the app down?",
    "opening hours today?",
    "is the site down?",
    "app not loading, known issue?",
    "how do i cancel?",
    "what's the support email?",
    "is there a phone number?",
)

# ---------------------------------------------------------------------------------------------- leads
TRAIT_LEADS: dict[str, tuple[str, ...]] = {
    ORDERS: (
        "thinking of getting {product}, anyone have one?",
        "is {product} worth it?",
        "{product} or {product2}?",
        "where can i buy {product} in {city}?",
        "does {brand} ship to {country}?",
        "anyone got a discount code for {brand}?",
        "how much is {product}?",
        "is {product} back in stock anytime soon?",
        "will {product} be in the sale?",
        "need {category}, any recommendations?",
        "may have to grab {product} on payday",
        "gonna order {product} tonight, is it true to size?",
        "is {brand} legit? thinking of ordering {product}",
        "is {product} worth the extra over {product2}?",
        "can i still get {product} anywhere?",
        "saving up for {product}, is it worth the wait?",
    ),
    BILLING: (
        "thinking of switching to {brand}, any good?",
        "gonna sign up for {brand} this weekend",
        "how much is {product} per month?",
        "any deals for new customers on {brand}?",
        "is {brand} worth it?",
        "is {product} worth the upgrade?",
    ),
}
GENERIC_LEADS: tuple[str, ...] = (
    "recommendations for {category}? {brand} or {competitor}?",
    "need {category}, what do you all use?",
    "in the market for {category}, budget around {budget}",
    "where's the best place to buy {category}?",
    "who sells {product} in {city}?",
    "is there anywhere that still has {product} in stock?",
    "anyone know where i can get {product} cheaper?",
    "where do you all buy {category}?",
    "what's the best site for {category}? {brand}?",
    "where did you get your {product}? want one",
    "who does the best {category}? looking to buy this week",
    "{brand} vs {competitor} for {category}? go",
    "torn between {brand} and {competitor}",
    "has anyone switched from {competitor} to {brand}? worth it?",
    "is {brand} any good? need {category} asap",
    "looking for {category}, heard good things about {brand}",
    "anyone tried {product}? on the fence",
    "if {product} drops under {amount} i'm buying it",
    "seriously considering {product}, talk me out of it",
    "what's better value, {brand} or {competitor}?",
    "do you have {product} in stock at the {city} store?",
    "when does {product} go on sale?",
    "how much is {product} with the student discount?",
)
SWITCH_LEADS: tuple[str, ...] = (
    "switching from {competitor} to {brand}, {brand}'s service is way better",
    "thinking of moving from {competitor} to {brand}, how's the service?",
    "gonna switch to {brand} next month",
    "about to leave {competitor} for {brand}, anything i should know?",
    "been a {competitor} person forever but {brand} looks better now, worth trying?",
)
# Switching that only makes sense for contracts and subscriptions (BILLING trait).
SWITCH_LEADS_CONTRACT: tuple[str, ...] = (
    "my contract with {competitor} ends soon, {brand} looks like a better deal",
    "probably moving to {brand} when my {competitor} plan runs out",
    "renewal with {competitor} is up, is {brand} cheaper for the same thing?",
)
SHORT_LEADS: tuple[str, ...] = (
    "link to {product}?",
    "how much is {product}??",
    "{product} price?",
    "i need {product} in my life",
    "{product}. take my money",
    "restock {product} when??",
    "where can i buy {product}",
    "{product} back when?",
)
# Short leads that only make sense for clothes and shoes.
SHORT_LEADS_APPAREL: tuple[str, ...] = (
    "{product}?? need these",
    "where'd u get that {garment}",
    "what size {product} do i get?",
    "{brand} do these come in {shoe}?",
    "{product} in {clothing_size}??",
    "need that {garment} asap",
    "those {garments} 😍 where from",
)
LEAD_OPENERS: tuple[str, ...] = (
    "ok",
    "so",
    "help me out,",
    "genuine question:",
    "",
    "",
    "",
    "",
    "",
    "right,",
    "need advice:",
    "hmm",
)
B2B_LEADS: tuple[str, ...] = (
    "can someone send a quote for {qty} {unit}?",
    "we need {qty} {unit} by {month}, who handles volume pricing?",
    "pricing for {qty} {unit}? procurement needs a quote by friday",
    "we're a {qty}-person company looking at {brand} for {unit}, can we book a demo?",
    "is there a bulk discount on {unit} for an order of {qty}?",
    "our RFP for {unit} goes out next week, does {brand} respond to tenders?",
    "we'd like to pilot {brand} at one site before rolling out to {n} more, who do we talk to?",
    "do you do invoiced billing on net 30 for {qty} {unit}?",
    "expanding to {n} more sites, can we add them at the same rate?",
    "looking for a supplier for {qty} {unit} a year, is {brand} set up for that?",
    "can your sales team call me about {qty} {unit}? email's in bio",
    "what's the lead time on {qty} {unit}?",
    "evaluating {brand} and {competitor} for {qty} {unit}, who can send a proposal?",
    "do you offer enterprise pricing above {qty} {unit}?",
)
B2B_TECH_LEADS: tuple[str, ...] = (
    "does the API support SSO, or is that enterprise only?",
    "do you support SAML SSO and SCIM on the business plan? deciding this month",
    "is there an on-prem or VPC option? security team won't sign otherwise",
    "can you fill in a security questionnaire before we buy?",
    "do you have a DPA and EU data residency? looking to roll out to {qty} users",
    "is there an SLA on the enterprise tier? comparing against {competitor}",
)

# ---------------------------------------------------------------------------------------------- praise
TRAIT_PRAISE: dict[str, tuple[str, ...]] = {
    ORDERS: (
        "my order arrived a day early and perfectly packed",
        "the return was so easy",
        "ordered last night and it came this morning",
        "they replaced the damaged item without any hassle",
    ),
    APP: ("the new app update is so smooth", "love the new app layout", "the app actually works offline now"),
    BILLING: ("refund came through in a day", "they refunded the overcharge without me even asking"),
    OUTAGE: ("fixed the outage quicker than expected and kept us updated the whole time",),
    TRAVEL: ("smoothest trip i've had in years", "everything ran on time, who knew"),
    VENUE: ("the staff at the {city} branch are always lovely", "the {city} store is so well run"),
}
SUPPORT_PRAISE: tuple[str, ...] = (
    "shoutout to {agent} at {brand} support who sorted my issue in 5 minutes",
    "actually got a human on the phone in 2 minutes, impressed",
    "customer service was amazing today",
    "the chat team fixed it first time",
    "{agent} on live chat was so patient with me",
    "support went above and beyond",
    "they called me back exactly when they said they would",
)
PRAISE_FRAMES: tuple[str, ...] = (
    "thank you {handle}! {praise}",
    "{praise} 🙌",
    "honestly {praise}. {brand} you've got a customer for life",
    "shoutout to {brand}, {praise}",
    "{praise}. well done {brand}",
    "credit where it's due, {praise}",
    "can't say enough good things about {brand}, {praise}",
    "{praise}, 10/10",
    "{praise}. thanks {brand}!",
    "{brand} never misses. {praise}",
    "{praise} ❤️",
    "have to say {praise}",
    "big love to {brand}, {praise}",
    "{praise}. so impressed",
)
PRAISE_BOUGHT: tuple[str, ...] = (
    "just picked up {product} and i'm in love",
    "finally got {product}, worth every penny",
    "got {product} last week and it's even better than the reviews said",
    "been using {product} for a month now, no regrets",
    "my {product} came today and wow",
    "bought {product} on a whim and it's the best thing i own",
)
PRAISE_SWITCHED: tuple[str, ...] = (
    "switched from {competitor} to {brand} last month and the service is way better",
    "moved to {brand} after years with {competitor}, should've done it sooner",
    "left {competitor} for {brand} in the spring, not looked back",
    "{brand} is so much better than {competitor} was, glad i switched",
)
SHORT_PRAISE: tuple[str, ...] = (
    "love it",
    "obsessed",
    "10/10",
    "never going back",
    "so good",
    "chef's kiss",
    "perfect",
)

# ---------------------------------------------------------------------------------------------- other
SUPPORT_REPLIES: tuple[tuple[str, str], ...] = (
    ("Hi {name}, sorry to hear that. Please DM us your order number and we'll take a look. {sig}", NEU),
    (
        "We're sorry for the wait, {name}. Can you send us a DM with your account email so we can look into this? {sig}",
        NEU,
    ),
    ("Thanks for reaching out! Our team is aware of the issue and working on a fix. We'll update you here.", NEU),
    ("Glad to hear it, {name}! Enjoy your {product} 🙌 {sig}", POS),
    ("Hi there, that doesn't sound right. Please follow us so we can DM you. {sig}", NEU),
    ("We've passed this on to the team and someone will be in touch within 48 hours. {sig}", NEU),
    ("Hey {name}, have you tried restarting the app and clearing the cache? Let us know if that helps! {sig}", NEU),
    ("So sorry about this {name}. We've sent you a DM so we can get this sorted. {sig}", NEU),
    ("Thanks {name}, we really appreciate the kind words! We'll pass them on to the team. {sig}", POS),
    ("Hi {name}, we can't see an order under that name. Could you DM us the email you used? {sig}", NEU),
    ("That's not the experience we want for you, {name}. Please DM us and we'll make it right. {sig}", NEU),
    ("Hi {name}, our phone lines are busy today. You can also reach us on live chat 8am-8pm. {sig}", NEU),
    (
        "Morning {name}, refunds can take 5-7 working days to show. If it's not there by then, give us a shout. {sig}",
        NEU,
    ),
)
RELEASE_NOTES: tuple[tuple[str, str], ...] = (
    (
        "{version} is rolling out now: fixes the login loop some of you saw after {version0} and speeds up checkout.",
        NEU,
    ),
    ("Planned maintenance tonight 01:00-03:00. The app may be unavailable for short periods.", NEU),
    ("Update: the issue affecting card payments has been resolved. Thanks for your patience.", NEU),
    (
        "We're aware some customers in {city} are having trouble connecting. Engineers are on it, next update in 30 mins.",
        NEU,
    ),
    ("New in {version}: dark mode, faster search and a fix for notifications on {os}.", POS),
    ("All services are back to normal. We're sorry for the disruption earlier today.", NEU),
    ("Heads up: our helpline hours change from next week. Live chat stays 24/7.", NEU),
)
NEWS: tuple[tuple[str, str], ...] = (
    ("{brand} raises ${n}{n2}M Series B to expand into {country}", NEU),
    ("{brand} to cut {qty} jobs as sales slow", NEG),
    ("{brand} names {person} as new chief executive", NEU),
    ("{brand} shares jump {pct}% after strong quarter", POS),
    ("{brand} and {competitor} announce partnership", NEU),
    ("{brand} fined by regulator over complaint handling failures", NEG),
    ("REPORT: {brand} customers hit by outage across {country}, company says fix is underway", NEG),
    ("{brand} opens flagship store in {city}", NEU),
    ("{brand} recalls {product} over safety concerns", NEG),
    ("{brand} to raise prices from {month}, citing costs", NEU),
    ("{brand} acquires {competitor} in deal worth a reported ${n}{n2}0M", NEU),
    ("Thousands report problems with {brand}, according to outage tracker", NEG),
    ("{brand} reports record {month} sales", POS),
    ("{brand} confirms data breach affecting some customers, says no card details taken", NEG),
    ("{brand} launches {product} in {country}", NEU),
    ("Analysts split on {brand}'s plan to enter {country}", NEU),
)
NEWS_PREFIXES: tuple[str, ...] = ("", "", "BREAKING: ", "JUST IN: ", "Business: ", "Markets: ", "Tech: ")
PROMOS: tuple[tuple[str, str], ...] = (
    ("{pct}% off everything this weekend only! Shop now 👉 {link}", POS),
    ("New season, new drops. {product} is out now. {link}", POS),
    ("Free delivery on orders over {amount}. Ends midnight.", NEU),
    ("BLACK FRIDAY IS HERE. Up to {pct}% off. {link}", POS),
    ("Switch to {brand} today and get your first 3 months half price*. T&Cs apply.", POS),
    ("Use code SAVE{pct} for {pct}% off your first order 🎉", POS),
    ("Flash sale! {product} now {amount} for 48 hours only.", POS),
    ("Members get early access to the sale from 8am tomorrow. Don't miss out.", NEU),
    ("Last chance: {pct}% off ends tonight ⏰ {link}", NEU),
    ("Introducing {product}. Available in store and online from {date}.", POS),
)
GIVEAWAYS: tuple[tuple[str, str], ...] = (
    ("RT to win {product}! Follow {handle_main} and RT, winner picked {weekday} #giveaway", POS),
    ("GIVEAWAY 🎉 we're giving away {n} of {product}. Like, follow and tag a friend. #win #competition", POS),
    ("entering to win {product} 🤞 {handle_main} #giveaway", POS),
    ("Win {product}! Comment your favourite {brand} moment below. Ends {date}. #competition", POS),
    ("it's giveaway time 🎁 RT + follow for a chance to win a {amount} {brand} voucher", POS),
    ("#competition time: tell us where you'd take {product} and you could win one", POS),
)
SCAMS: tuple[tuple[str, str, str], ...] = (
    ("scam_airdrop", "🚀 {brand} AIRDROP LIVE! Claim your free tokens before it ends 👉 {link}", POS),
    (
        "scam_airdrop",
        "Congrats! You've been selected for the {brand} reward program. Claim your {amount} at {link}",
        POS,
    ),
    ("scam_airdrop", "{brand} token airdrop: connect your wallet at {link} to claim. Limited spots!!", NEU),
    (
        "scam_fake_support",
        "@{user} Sorry for the trouble! Please WhatsApp our support agent at +44 7{digits} for instant refund",
        NEU,
    ),
    (
        "scam_fake_support",
        "@{user} Hello, we can help recover your account. DM our team with your wallet phrase to verify.",
        NEU,
    ),
    ("scam_fake_support", "Having issues with {brand}? Contact our 24/7 helpline {phone}", NEU),
    ("scam_fake_support", "@{user} we are {brand} refund team, text {phone} on whatsapp and an agent will help", NEU),
    ("scam_phishing", "Your {brand} account has been suspended. Verify your details within 24h: {link}", NEG),
    ("scam_phishing", "{brand}: a payment of {amount} is pending. If this wasn't you, cancel here {link}", NEU),
    ("scam_phishing", "We were unable to deliver your parcel. Pay the {amount} redelivery fee at {link}", NEU),
)
IDLE_WISHES: tuple[tuple[str, str], ...] = (
    ("i want a {luxury} lol", POS),
    ("one day i'll own a {luxury}. one day", NEU),
    ("if i win the lottery first thing i'm buying is a {luxury}", POS),
    ("me: broke. also me: looking at {luxury}s at 2am 😂", NEU),
    ("imagine being rich enough to fly business everywhere", NEU),
    ("dreaming of a {luxury} and a life with no emails", POS),
    ("wish i could just buy a {luxury} and disappear", NEU),
    ("in another life i have a {luxury}", NEU),
)
LUXURIES: tuple[str, ...] = (
    "ferrari",
    "yacht",
    "house with a pool",
    "private jet",
    "lambo",
    "castle",
    "villa in Italy",
)
CHATTER: tuple[tuple[str, str], ...] = (
    ("every single person on my train has a {brand} tote bag", NEU),
    ("is it just me or is every ad on tv for {brand} now", NEU),
    ("the {brand} billboard outside my flat has changed 4 times this month", NEU),
    ("{brand} and {competitor} arguing on here again lol", POS),
    ("ngl the {brand} mascot is kind of cursed", NEG),
    ("reading about how {brand} started in a garage, wild", POS),
    ("my nan just asked me what {brand} is", NEU),
    ("thinking about the time {brand} put a typo on every box lmao", POS),
    ("{brand} fans vs {competitor} fans, fight", NEU),
    ("podcast this week: is {brand} still cool? link in bio", NEU),
    ("{brand}'s new ad with the dog has me crying", POS),
    ("why does everyone at my work have a {brand} water bottle", NEU),
    ("{brand} is overrated, change my mind", NEG),
    ("my dad still pronounces {brand} wrong and i've given up correcting him", NEU),
    ("the {brand} jingle has been stuck in my head all day", NEU),
    ("anyone else remember when {brand} sponsored the league?", NEU),
    ("walked past the new {brand} store in {city} today, it's massive", NEU),
    ("{brand} vs {competitor} discourse is so tired", NEG),
    ("hot take: {brand} and {competitor} are basically the same company", NEU),
    ("the {brand} logo redesign is... a choice", NEG),
    ("my cat is sitting in the {brand} box instead of the bed i bought her", POS),
    ("saw a {brand} van on my street and got excited thinking it was for me. it was not", NEU),
    ("working on a uni project about {brand}'s marketing, fascinating stuff", NEU),
    ("just realised {brand} has been around since my parents were kids", NEU),
    ("{brand} trending and i'm scared to look why", NEU),
)
OFFTOPIC: tuple[tuple[str, str, str], ...] = (
    ("offtopic_weather", "this rain is never ending, i'm done", NEG),
    ("offtopic_weather", "too hot to function today", NEG),
    ("offtopic_weather", "snow day again, everything is cancelled", NEG),
    ("offtopic_mood", "i hate mondays", NEG),
    ("offtopic_mood", "why is monday so long", NEG),
    ("offtopic_mood", "best day ever honestly", POS),
    ("offtopic_politics", "that speech last night was a disaster", NEG),
    ("offtopic_politics", "the minister has no idea what he's talking about", NEG),
    ("offtopic_politics", "can't believe they voted that through", NEG),
    ("offtopic_sports", "cannot believe we lost 3-0 again", NEG),
    ("offtopic_sports", "the referee was a joke tonight", NEG),
    ("offtopic_sports", "{player} is a god", POS),
    ("offtopic_sports", "that second half was painful to watch", NEG),
    ("offtopic_sports", "{player} should never start again", NEG),
    ("offtopic_traffic", "traffic on the ring road is a nightmare", NEG),
    ("offtopic_weather", "of course it rains the one day i plan a bbq", NEG),
    ("offtopic_mood", "this week has lasted a month", NEG),
    ("offtopic_politics", "another budget, another disappointment", NEG),
    ("offtopic_sports", "we bottled it again. every single year", NEG),
    ("offtopic_mood", "why is everyone so loud on the bus", NEG),
    ("offtopic_sports", "the new manager has no idea what he's doing", NEG),
)
ANTICIPATION: tuple[tuple[str, str], ...] = (
    ("can't wait for the {brand} launch event tomorrow!!", POS),
    ("the new {brand} ad campaign drops friday, hyped", POS),
    ("going to the {brand} store opening in {city} on saturday", POS),
    ("{brand} keynote in an hour, who's watching?", NEU),
    ("counting down to the {brand} event 🔥", POS),
)
ALREADY_BOUGHT: tuple[tuple[str, str], ...] = (
    ("just ordered {product}", NEU),
    ("pre-ordered {product}, arrives {date}", NEU),
    ("picked up {product} today, we'll see", NEU),
    ("ordered {product} for my {relative}, fingers crossed it fits", NEU),
    ("well that's {product} bought. bank account crying", NEU),
    ("done. {product} ordered. no going back now", NEU),
)
FAN_TALK: tuple[tuple[str, str], ...] = (
    ("who's starting for {brand} on saturday?", NEU),
    ("is {player} fit for the derby?", NEU),
    ("{player} was unreal tonight", POS),
    ("selling 2 tickets for saturday, face value, dm me", NEU),
    ("match called off because of the snow, gutted", NEG),
    ("can't wait for the derby on sunday!!", POS),
    ("worst performance of the season, embarrassing", NEG),
)
CONTENT_DISLIKE: tuple[tuple[str, str], ...] = (
    ("that finale was awful", NEG),
    ("worst episode of the season tbh", NEG),
    ("the new season of the show on {brand} is so boring", NEG),
    ("not a fan of the new album at all", NEG),
    ("Skyreach 2's ending made no sense", NEG),
)
HIRING: tuple[tuple[str, str], ...] = (
    ("We're hiring! Customer support advisors in {city}. Apply at {link}", POS),
    ("{brand} is looking for a senior backend engineer (remote, EU). {link}", NEU),
    ("Join our store team in {city} this {month}. {link}", NEU),
)
SHOW_HN: tuple[tuple[str, str], ...] = (
    ("Show HN: an open-source alternative to {brand}", NEU),
    ("{brand} raises $40M to build developer tools (techcrunch)", NEU),
    ("{brand} post-mortem: the {weekday} outage and what we changed", NEU),
    ("Why we moved from {brand} to {competitor} (2026)", NEU),
    ("{brand}'s pricing change, explained", NEU),
)
REVIEW_OTHER: tuple[tuple[str, str], ...] = (
    ("Bought this for my {relative}'s birthday, they haven't opened it yet. Will update.", NEU),
    ("Haven't used it yet, just arrived. Will review properly later.", NEU),
    ("Gift for my {relative}. No idea if it's any good, box looks nice.", NEU),
)

# Replies a customer sends inside a support thread, after the brand has answered once.
FOLLOWUPS: dict[str, tuple[tuple[str, str], ...]] = {
    "complaint": (
        ("already tried that, still broken", NEG),
        ("i've done that 3 times already. it doesn't work", NEG),
        ("that's exactly what the last agent said", NEG),
        ("your 'fix' didn't work", NEG),
        ("still nothing, {days} after you said you'd look into it", NEG),
        ("i dm'd you {days} ago and no reply", NEG),
        ("i don't want to DM, i want it fixed", NEG),
        ("the link you sent doesn't work either", NEG),
        ("you said 48 hours. it's been {days}", NEG),
        ("reinstalled, restarted, cleared cache, still crashing", NEG),
        ("that's not an answer", NEG),
        ("i sent the order number yesterday, still waiting", NEU),
        ("still not sorted, any update?", NEU),
        ("thanks for nothing", NEG),
        ("a copy and paste reply, great", NEG),
    ),
    "praise": (
        ("thanks, that worked!", POS),
        ("sorted now, thank you so much", POS),
        ("that did the trick, cheers", POS),
        ("amazing, refund's come through. thank you {agent}", POS),
        ("wow that was quick, thanks team", POS),
        ("all fixed, really appreciate the help", POS),
    ),
    "question": (
        ("which email do you need, the one on the account or the one i ordered with?", NEU),
        ("where do i find my account number?", NEU),
        ("where's the order number on the receipt?", NEU),
        ("do i need to follow you to DM?", NEU),
        ("ok, and how do i do that on android?", NEU),
    ),
    "other": (
        ("DM sent", NEU),
        ("done, check your DMs", NEU),
        ("sent you the details", NEU),
        ("ok will do", NEU),
        ("followed 👍", NEU),
        ("no worries", NEU),
    ),
}

# ---------------------------------------------------------------------------------------------- dressing
HASHTAGS_COMPLAINT: tuple[str, ...] = (
    "#customerservice",
    "#fail",
    "#neveragain",
    "#poorservice",
    "#badservice",
    "#refund",
)
# Industry hashtags that only fit a grievance; kept off praise, leads and questions.
NEGATIVE_HASHTAGS: tuple[str, ...] = (
    "#delayed",
    "#nosignal",
    "#internetdown",
    "#outage",
    "#foodfail",
    "#powercut",
    "#fraud",
)
HASHTAGS_PRAISE: tuple[str, ...] = ("#happycustomer", "#recommend", "#thankyou", "#love")
HASHTAGS_LEAD: tuple[str, ...] = ("#help", "#advice", "#recommendations")
EMOJI: dict[str, tuple[str, ...]] = {
    NEG: ("😡", "🤬", "😤", "🙄", "😒", "🤦‍♂️", "🤦‍♀️", "😩", "💀", "👎"),
    NEU: ("🤔", "🙏", "👀", "😅"),
    POS: ("😍", "🙌", "🔥", "❤️", "👏", "😊", "💯", "✨"),
}
COMPLAINT_OPENERS: tuple[str, ...] = (
    "ugh",
    "seriously",
    "honestly",
    "so",
    "again",
    "day {n}:",
    "update:",
    "not happy.",
    "hi,",
    "hello?",
    "come on",
    "",
    "",
    "",
    "",
    "",
    "",
)
COMPLAINT_SWITCHING: tuple[str, ...] = (
    "{problem}. that's it, i'm moving to {competitor}",
    "thanks to {brand} i'm switching to {competitor}",
    "{brand}'s support is useless, switching to {competitor} as soon as my contract's up",
    "{problem}. {competitor} here i come",
    "{problem}. if this isn't fixed by friday i'm going to {competitor}",
)
GENERIC_REF_FRAMES: tuple[str, ...] = (
    "{problem} and {generic} is no help at all",
    "{problem}. {Generic} is useless",
    "{problem}, and {generic} just keeps saying wait",
)
# Per-platform sentences that give a post context. Keyed by intent.
REDDIT_OPENERS: dict[str, tuple[str, ...]] = {
    "complaint": (
        "PSA: avoid {brand}.",
        "Rant incoming.",
        "Anyone else having problems with {brand}?",
        "Is it just me or has {brand} gone downhill?",
        "Long time customer, first time posting.",
        "Need to vent.",
        "Warning to anyone thinking of using {brand}.",
    ),
    "question": (
        "Quick question for {brand} users.",
        "Sorry if this has been asked before.",
        "Hoping someone here knows.",
        "Probably a dumb question but",
        "Can't find this anywhere.",
    ),
    "purchase_intent": (
        "Looking for advice.",
        "Need help deciding.",
        "Buying advice:",
        "Long time lurker, first post.",
        "Decision paralysis, help.",
    ),
    "b2b": ("Work question.", "Asking for my company.", "Vendor question for anyone in ops."),
    "praise": (
        "Some positivity for once.",
        "Credit where it's due.",
        "Not an ad, just genuinely impressed.",
        "We see a lot of complaints here so here's a good one.",
    ),
}
REDDIT_CLOSERS: dict[str, tuple[str, ...]] = {
    "complaint": (
        "Anyone else?",
        "Is there anyone at {brand} who actually reads this sub?",
        "Edit: still nothing.",
        "Update: they finally replied with a copy-paste answer.",
        "What are my options here?",
        "Not sure what else to do.",
        "Going to the ombudsman if this isn't fixed by friday.",
        "Edit: yes i've tried turning it off and on again.",
    ),
    "question": (
        "Thanks in advance!",
        "Searched the sub but couldn't find an answer.",
        "Any help appreciated.",
        "Edit: solved, thanks all.",
    ),
    "purchase_intent": (
        "Budget is around {budget}.",
        "Any input welcome!",
        "Would love to hear from owners.",
        "Ordering this weekend so any advice helps.",
        "Pros and cons appreciated.",
    ),
    "b2b": ("Any input welcome!", "DMs open if easier.", "Would love to hear from anyone running it at scale."),
    "praise": (
        "Just wanted to share.",
        "Highly recommend.",
        "Nice to have a good experience for a change.",
        "No affiliation, just happy.",
    ),
}
REVIEW_STARS: dict[str, tuple[str, ...]] = {
    NEG: ("★☆☆☆☆", "1/5.", "2 stars.", "One star.", "1 star.", "★★☆☆☆"),
    POS: ("★★★★★", "5/5.", "Five stars.", "5 stars!", "★★★★☆", "4/5."),
    NEU: ("★★★☆☆", "3/5.", "3 stars."),
}
# Reviews of goods ("Bought this for…") and of services ("Customer for 6 years.") read differently.
REVIEW_CONTEXT: dict[str, tuple[str, ...]] = {
    "goods": (
        "Bought this for my {relative}.",
        "Ordered on a {weekday}.",
        "Bought this for my {relative}'s birthday.",
        "Second one I've bought.",
        "Used it for {weeks} now.",
        "Ordered online, collected in store.",
        "Got it in the sale.",
    ),
    "service": (
        "Customer for {n} years.",
        "Been using them for {weeks}.",
        "First time using them.",
        "Booked through the app.",
        "Switched to them last year.",
    ),
}
REVIEW_TAILS: dict[str, dict[str, tuple[str, ...]]] = {
    "goods": {
        NEG: (
            "Would not recommend.",
            "Avoid.",
            "Returning it.",
            "Waste of money.",
            "Still waiting on a reply to my email.",
        ),
        POS: ("Highly recommend.", "Would buy again.", "Worth every penny.", "Great value.", "No complaints at all."),
    },
    "service": {
        NEG: ("Would not recommend.", "Avoid.", "Taking my business elsewhere.", "Customer service were useless."),
        POS: ("Highly recommend.", "Would use again.", "Great service.", "No complaints at all."),
    },
}
HN_COMPLAINT_FRAMES: tuple[str, ...] = (
    "We've been on {brand} for {n} years. {Core}. Paying {spend}/mo for this and support just links the docs.",
    "{Core}. Anyone else seeing this? Ticket open since {weekday}, no reply.",
    "{Core}. Is {brand} even staffed anymore? Their status page hasn't changed in {hours}.",
    "PSA for anyone on {brand}: {core}. Ticket open since {weekday}, no response.",
)
HN_QUESTION_FRAMES: tuple[str, ...] = (
    "Ask HN: {Core}",
    "Ask HN: {brand} users, {core}",
    "{Core} The docs are vague and I'd rather not open a ticket for this.",
)
HN_LEAD_FRAMES: tuple[str, ...] = (
    "Ask HN: {brand} vs {competitor} for {category}?",
    "Ask HN: Anyone using {brand} at scale? {Core}",
    "Ask HN: Who do you use for {category}? Considering {brand}.",
    "We're evaluating {brand} this quarter. {Core}",
)
MASTODON_TAGS: dict[str, tuple[str, ...]] = {
    "complaint": ("#CustomerService", "#Rant", "#Consumer", "#Fail"),
    "question": ("#Help", "#AskFedi", "#TechSupport"),
    "purchase_intent": ("#AskFedi", "#Shopping", "#Recommendations"),
    "b2b": ("#B2B", "#Procurement", "#SaaS"),
    "praise": ("#GoodService", "#Shoutout", "#CustomerService"),
}
CONTEXT_SENTENCES: dict[str, tuple[str, ...]] = {
    "complaint": (
        "Third time this month.",
        "Been with them for {n} years.",
        "I've sent {n} emails.",
        "Honestly at a loss.",
        "Nobody seems to know anything.",
        "The help page just loops back to the chatbot.",
        "Every reply is a template.",
    ),
    "question": (
        "Can't find it in settings.",
        "The help page didn't cover it.",
        "New to this.",
        "On the latest version.",
    ),
    "purchase_intent": (
        "Budget is flexible.",
        "Reviews are all over the place.",
        "Friends swear by it.",
        "Not in a rush but soon.",
        "Would be my first time with them.",
    ),
    "b2b": (
        "Procurement wants options by the end of the month.",
        "We're about {qty} people.",
        "Currently on {competitor}.",
        "Happy to do a call.",
        "Need something signed this quarter.",
    ),
    "praise": ("Didn't expect that at all.", "Really made my week.", "That's how it's done.", "Rare these days."),
}
