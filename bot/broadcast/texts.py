"""Everything the broadcast feature says, Swedish first and English too."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

REMINDER_EXAMPLES = {
    "sv": (
        "Exempel:\n"
        "- **påminnelse nu hygien** (en mall, se **påminnelsemallar**)\n"
        "- **påminnelse nu Kom ihåg att ta en promenad i dag!**\n"
        "- **påminnelse 2026-12-01 09:00 avstand**\n"
        "- **påminnelse imorgon kl 9 Glöm inte APT i morgon.**\n"
        "- **påminnelse varje måndag 09:00 till 2026-12-31 pauser**\n"
        "- **påminnelse för ksf-hr varje vardag 15:30 arbete-fritid** (om du har flera enheter)"
    ),
    "en": (
        "Examples:\n"
        "- **reminder now hygien** (a template, see **reminder templates**)\n"
        "- **reminder now Remember to take a walk today!**\n"
        "- **reminder 2026-12-01 09:00 avstand**\n"
        "- **reminder tomorrow at 9 Don't forget the team meeting.**\n"
        "- **reminder every monday 09:00 until 2026-12-31 pauser**\n"
        "- **reminder for ksf-hr every weekday 15:30 arbete-fritid** (if you have several units)"
    ),
}

LAGESBILD_FORMAT = {
    "sv": (
        "Du kan också skriva hela lägesbilden i ett meddelande, ett fält per rad:\n\n"
        "skriv lägesbild\n"
        "läge: ordinarie (eller aktiverat)\n"
        "vecka: 48\n"
        "sammanfattning: …\n"
        "{sections}"
    ),
    "en": (
        "You can also write the whole report in one message, one field per line:\n\n"
        "write situation report\n"
        "mode: normal (or activated)\n"
        "week: 48\n"
        "summary: …\n"
        "{sections}"
    ),
}

TEXTS: dict[str, dict[str, str]] = {
    # ---- lägesbild: writing and publishing ----
    "lb_title": {"sv": "Lägesbild vecka {week}", "en": "Situation report week {week}"},
    "lb_form_title": {"sv": "Skriv veckans lägesbild", "en": "Write this week's situation report"},
    "lb_form_intro": {
        "sv": "Fyll i och tryck Förhandsgranska. Inget skickas förrän du väljer det.",
        "en": "Fill in and press Preview. Nothing is sent until you choose to.",
    },
    "lb_mode": {"sv": "Läge", "en": "Mode"},
    "lb_week": {"sv": "Vecka", "en": "Week"},
    "lb_summary": {"sv": "Sammanfattning", "en": "Summary"},
    "lb_preview_button": {"sv": "Förhandsgranska", "en": "Preview"},
    "lb_bad_mode": {
        "sv": 'Läget ska vara **ordinarie** eller **aktiverat** (du skrev "{value}").',
        "en": 'The mode must be **normal** or **activated** (you wrote "{value}").',
    },
    "lb_bad_line": {
        "sv": 'Jag förstod inte raden "{line}". Börja varje fält med dess namn och ett kolon.',
        "en": 'I did not understand the line "{line}". Start each field with its name and a colon.',
    },
    "lb_too_long": {
        "sv": "Fältet ”{field}” är {length} tecken långt; högst {limit} tecken får plats. Korta det och skicka igen – inget har sparats.",
        "en": "The field “{field}” is {length} characters long; at most {limit} fit. Shorten it and send again – nothing was saved.",
    },
    "lb_missing_summary": {
        "sv": "Lägesbilden behöver en sammanfattning.",
        "en": "The situation report needs a summary.",
    },
    "lb_missing_section": {
        "sv": 'Avsnittet "{section}" måste fyllas i.',
        "en": 'The section "{section}" must be filled in.',
    },
    "lb_preview_intro": {
        "sv": "Förhandsgranskning: så här ser lägesbilden ut i kanalerna.",
        "en": "Preview: this is how the report will look in the channels.",
    },
    "lb_next_steps": {
        "sv": "Publicera nu, eller låt den gå ut vid veckoutskicket {slot}. "
        "Du kan också skriva **publicera lägesbild** eller **schemalägg lägesbild**.",
        "en": "Publish now, or leave it for the weekly slot {slot}. "
        "You can also type **publish situation report** or **schedule situation report**.",
    },
    "lb_publish_button": {"sv": "Publicera nu", "en": "Publish now"},
    "lb_schedule_button": {"sv": "Skicka vid veckoutskicket", "en": "Send at the weekly slot"},
    "lb_edit_button": {"sv": "Ändra", "en": "Edit"},
    "lb_published": {
        "sv": "Lägesbilden för vecka {week} skickas nu till {channels}. Du får en leveransrapport här när den är framme.",
        "en": "The situation report for week {week} is on its way to {channels}. You get a delivery report here when it has arrived.",
    },
    "lb_published_card": {
        "sv": "✅ Publicerad {when} till {channels}.",
        "en": "✅ Published {when} to {channels}.",
    },
    "lb_scheduled_card": {
        "sv": "🕗 Schemalagd: går ut {slot}.",
        "en": "🕗 Scheduled: goes out {slot}.",
    },
    "lb_replaced": {
        "sv": "Det utkastet har ersatts av ett nyare, så inget skickades. Skriv **förhandsgranska lägesbild** för att se det senaste.",
        "en": "That draft has been replaced by a newer one, so nothing was sent. Type **preview situation report** to see the latest.",
    },
    "lb_bad_week": {
        "sv": 'Veckan ska vara ett veckonummer 1–53 (du skrev "{value}").',
        "en": 'The week must be a week number 1–53 (you wrote "{value}").',
    },
    "lb_week_range": {"sv": "Ett veckonummer 1–53.", "en": "A week number 1–53."},
    "lb_form_error": {"sv": "Rätta det här och tryck Förhandsgranska igen:", "en": "Fix this and press Preview again:"},
    "lb_already_published": {
        "sv": "Den lägesbilden är redan publicerad. Skriv **skriv lägesbild** för en ny.",
        "en": "That situation report is already published. Type **write situation report** for a new one.",
    },
    "lb_no_draft": {
        "sv": "Det finns inget utkast att skicka. Skriv **skriv lägesbild** för att börja.",
        "en": "There is no draft to send. Type **write situation report** to start.",
    },
    "lb_scheduled": {
        "sv": "Klart. Lägesbilden för vecka {week} går ut {slot}. Schemalägger du en ny före dess går den nya ut i stället.",
        "en": "Done. The report for week {week} goes out {slot}. If you schedule a new one before then, the new one goes out instead.",
    },
    "lb_no_slot": {
        "sv": "Alla veckoutskick det närmaste året ligger i uppehåll. Publicera nu i stället.",
        "en": "Every weekly slot in the coming year is in a pause. Publish now instead.",
    },
    "lb_latest_none": {
        "sv": "Ingen lägesbild har publicerats ännu.",
        "en": "No situation report has been published yet.",
    },
    "lb_from_hr": {"sv": "Från HR", "en": "From HR"},
    # ---- subscriptions ----
    "lb_subscribed": {
        "sv": "Den här kanalen får nu veckans lägesbild. Skriv **avsluta lägesbild** för att sluta.",
        "en": "This channel now gets the weekly situation report. Type **unsubscribe situation report** to stop.",
    },
    "lb_already_subscribed": {
        "sv": "Den här kanalen prenumererar redan på lägesbilden.",
        "en": "This channel already subscribes to the situation report.",
    },
    "lb_unsubscribed": {
        "sv": "Den här kanalen får inte längre lägesbilden.",
        "en": "This channel no longer gets the situation report.",
    },
    "lb_not_subscribed": {
        "sv": "Den här kanalen prenumererar inte på lägesbilden.",
        "en": "This channel does not subscribe to the situation report.",
    },
    "lb_subscribe_where": {
        "sv": "Skriv kommandot i kanalen som ska få lägesbilden (och nämn mig med @).",
        "en": "Type the command in the channel that should get the report (and @mention me).",
    },
    "lb_subscribe_roles": {
        "sv": "Det är HR, chefer och ambassadörer som kan ändra en kanals prenumeration. Be någon av dem.",
        "en": "HR, managers and ambassadors can change a channel's subscription. Ask one of them.",
    },
    # ---- HR's reminder before the slot ----
    "hr_reminder": {
        "sv": "Påminnelse: det finns ingen ny lägesbild till veckoutskicket {slot}. Skriv **skriv lägesbild** i den här chatten.",
        "en": "Reminder: there is no new situation report for the weekly slot {slot}. Type **write situation report** in this chat.",
    },
    "hr_reminder_draft": {
        "sv": "Påminnelse: utkastet till lägesbild (vecka {week}) är inte schemalagt till veckoutskicket {slot}. "
        "Skriv **schemalägg lägesbild** eller **publicera lägesbild**.",
        "en": "Reminder: the draft situation report (week {week}) is not scheduled for the weekly slot {slot}. "
        "Type **schedule situation report** or **publish situation report**.",
    },
    # ---- delivery reports ----
    "report_title": {"sv": "Leveransrapport: {subject}", "en": "Delivery report: {subject}"},
    "report_delivered": {"sv": "Levererad till {delivered} av {total}.", "en": "Delivered to {delivered} of {total}."},
    "report_failed": {"sv": "Misslyckades ({count}):", "en": "Failed ({count}):"},
    "report_gone": {
        "sv": "Boten finns inte längre där ({count}), inget mer skickas dit:",
        "en": "The bot is no longer there ({count}); nothing more goes there:",
    },
    "subject_lagesbild": {"sv": "lägesbild vecka {week}", "en": "situation report week {week}"},
    "subject_reminder": {"sv": "påminnelse #{id} till {unit}", "en": "reminder #{id} to {unit}"},
    "subject_hr": {"sv": "påminnelse till HR", "en": "reminder to HR"},
    # ---- ambassadors' reminders ----
    "rem_header": {"sv": "🔔 Påminnelse – {unit}", "en": "🔔 Reminder – {unit}"},
    "rem_signature": {"sv": "{name}, ambassadör", "en": "{name}, ambassador"},
    "rem_syntax": {
        "sv": "Jag förstod inte påminnelsen.\n\n" + REMINDER_EXAMPLES["sv"],
        "en": "I did not understand the reminder.\n\n" + REMINDER_EXAMPLES["en"],
    },
    "rem_need_time": {
        "sv": "Skriv en tid efter dagen, till exempel 09:00 eller kl 9.\n\n" + REMINDER_EXAMPLES["sv"],
        "en": "Give a time after the day, for example 09:00 or at 9.\n\n" + REMINDER_EXAMPLES["en"],
    },
    "rem_need_days": {
        "sv": 'Skriv vilka dagar efter "varje", till exempel **varje måndag** eller **varje vardag**.\n\n'
        + REMINDER_EXAMPLES["sv"],
        "en": 'Say which days after "every", for example **every monday** or **every weekday**.\n\n'
        + REMINDER_EXAMPLES["en"],
    },
    "rem_need_text": {
        "sv": "Vad ska påminnelsen säga? Skriv en text eller en mall efter tiden.\n\n" + REMINDER_EXAMPLES["sv"],
        "en": "What should the reminder say? Write a text or a template after the time.\n\n" + REMINDER_EXAMPLES["en"],
    },
    "rem_bad_date": {
        "sv": '"{value}" är inget datum jag kan läsa. Skriv till exempel 2026-12-01 eller 1/12.',
        "en": '"{value}" is not a date I can read. Write for example 2026-12-01 or 1/12.',
    },
    "rem_past": {
        "sv": "Den tiden har redan passerat. Välj en tid framåt.",
        "en": "That time has already passed. Pick a time ahead.",
    },
    "rem_unknown_unit": {
        "sv": 'Enheten "{value}" finns inte. Dina enheter: {units}.',
        "en": 'There is no unit "{value}". Your units: {units}.',
    },
    "rem_unknown_template": {
        "sv": 'Mallen "{value}" finns inte. Mallar: {templates}.',
        "en": 'There is no template "{value}". Templates: {templates}.',
    },
    "rem_not_your_unit": {
        "sv": "Du är ambassadör för {units} och kan bara skicka påminnelser dit.",
        "en": "You are an ambassador for {units} and can only send reminders there.",
    },
    "rem_pick_unit": {
        "sv": "Du är ambassadör för flera enheter ({units}). Skriv vilken, till exempel **påminnelse för {first} nu …**",
        "en": "You are an ambassador for several units ({units}). Say which, for example **reminder for {first} now …**",
    },
    "rem_no_channels": {
        "sv": "Enheten {unit} har inga kanaler än. Skriv **koppla kanalen till enhet {unit_id}** i en kanal (med @Distansstöd).",
        "en": "The unit {unit} has no channels yet. Type **link channel to unit {unit_id}** in a channel (with @Distansstöd).",
    },
    # ---- linking channels to units ----
    "link_usage": {
        "sv": "Skriv **koppla kanalen till enhet ENHET** i kanalen. Enheter: {units}.",
        "en": "Type **link channel to unit UNIT** in the channel. Units: {units}.",
    },
    "link_where": {
        "sv": "Skriv det i kanalen som ska kopplas, med @Distansstöd.",
        "en": "Type it in the channel to link, with @Distansstöd.",
    },
    "link_not_allowed": {
        "sv": "Bara HR, chefer och enhetens ambassadörer kan koppla kanaler till {unit}.",
        "en": "Only HR, managers and the unit's ambassadors can link channels to {unit}.",
    },
    "link_pinned": {
        "sv": "Den här kanalen hör till {unit} enligt units.yaml; det ändras där.",
        "en": "This channel belongs to {unit} in units.yaml; change it there.",
    },
    "linked": {
        "sv": "Kanalen är nu kopplad till {unit}: enhetens påminnelser kommer hit. Ångra med **koppla loss kanalen**.",
        "en": "This channel is now linked to {unit}: the unit's reminders come here. Undo with **unlink channel**.",
    },
    "linked_moved": {"sv": "(Den var kopplad till {previous}.)", "en": "(It was linked to {previous}.)"},
    "unlinked": {
        "sv": "Kanalen är inte längre kopplad till {unit}.",
        "en": "This channel is no longer linked to {unit}.",
    },
    "not_linked": {
        "sv": "Kanalen är inte kopplad till någon enhet med ett kommando.",
        "en": "This channel is not linked to a unit by a command.",
    },
    "links_head": {"sv": "Kanaler kopplade till enheter:", "en": "Channels linked to units:"},
    "links_pinned": {"sv": "i units.yaml", "en": "in units.yaml"},
    "links_by": {"sv": "kopplad av {who} {at}", "en": "linked by {who} {at}"},
    "links_none": {"sv": "Inga kanaler är kopplade till enheter än.", "en": "No channels are linked to units yet."},
    "rem_in_pause": {
        "sv": "Den dagen ligger i ett uppehåll ({reason}) och då skickas inga schemalagda påminnelser. Välj en annan dag eller skicka nu.",
        "en": "That day is in a pause ({reason}) when no scheduled reminders go out. Pick another day or send now.",
    },
    "rem_sent_now": {
        "sv": "Påminnelsen #{id} skickas nu till {channels} i {unit}. Du får en leveransrapport när den är framme.",
        "en": "Reminder #{id} is on its way to {channels} in {unit}. You get a delivery report when it has arrived.",
    },
    "rem_scheduled": {
        "sv": "Påminnelse #{id} till {unit} är schemalagd: {when}. Skriv **avbryt påminnelse {id}** för att ta bort den.",
        "en": "Reminder #{id} to {unit} is scheduled: {when}. Type **cancel reminder {id}** to remove it.",
    },
    "rem_when_once": {"sv": "{at}", "en": "{at}"},
    "rem_when_weekly": {"sv": "varje {days} kl {time}{until}", "en": "every {days} at {time}{until}"},
    "rem_until": {"sv": " till och med {date}", "en": " until {date}"},
    "rem_next": {"sv": "nästa {at}", "en": "next {at}"},
    "rem_every_day": {"sv": "dag", "en": "day"},
    "rem_every_weekday": {"sv": "vardag", "en": "weekday"},
    "rem_next_after_pause": {
        "sv": "nästa {at}; uppehållet {reason} till {end} hoppar över utskicken före dess",
        "en": "next {at}; the pause {reason} until {end} skips the ones before",
    },
    "rem_no_next": {"sv": "inga fler utskick (uppehåll)", "en": "no more sends (pauses)"},
    "pause_notice_reminder": {
        "sv": "Påminnelse #{id} till {unit} skickades inte {at}: uppehåll ({reason}) till {end}. {next}",
        "en": "Reminder #{id} to {unit} was not sent {at}: a pause ({reason}) until {end}. {next}",
    },
    "pause_notice_lagesbild": {
        "sv": "Lägesbilden för vecka {week} skickades inte {at}: uppehåll ({reason}) till {end}. "
        "Skriv **schemalägg lägesbild** för att lägga den på nästa veckoutskick, eller **publicera lägesbild**.",
        "en": "The situation report for week {week} was not sent {at}: a pause ({reason}) until {end}. "
        "Type **schedule situation report** to leave it for the next weekly slot, or **publish situation report**.",
    },
    "pause_notice_next": {"sv": "Nästa utskick: {at}.", "en": "Next send: {at}."},
    "subject_pause": {"sv": "Uppehåll", "en": "Pause"},
    "lb_slot_after_pause": {
        "sv": "Veckoutskicket {skipped} ligger i uppehållet {reason} (till {end}), så den går ut {slot}.",
        "en": "The weekly slot {skipped} is in the pause {reason} (until {end}), so it goes out {slot}.",
    },
    "rem_list_empty": {"sv": "Det finns inga schemalagda påminnelser.", "en": "There are no scheduled reminders."},
    "rem_list_head": {"sv": "Schemalagda påminnelser:", "en": "Scheduled reminders:"},
    "rem_list_hint": {
        "sv": "Skriv **avbryt påminnelse <nummer>** för att ta bort en.",
        "en": "Type **cancel reminder <number>** to remove one.",
    },
    "rem_cancelled": {"sv": "Påminnelse #{id} är borttagen.", "en": "Reminder #{id} is cancelled."},
    "rem_cancel_usage": {
        "sv": "Skriv numret på påminnelsen, till exempel **avbryt påminnelse 3**. Se **mina påminnelser**.",
        "en": "Give the reminder's number, for example **cancel reminder 3**. See **my reminders**.",
    },
    "rem_cancel_not_found": {
        "sv": "Det finns ingen aktiv påminnelse #{id}.",
        "en": "There is no active reminder #{id}.",
    },
    "rem_cancel_not_yours": {
        "sv": "Påminnelse #{id} är inte din. Bara den som skapade den, eller HR, kan ta bort den.",
        "en": "Reminder #{id} is not yours. Only its author, or HR, can cancel it.",
    },
    "audit_head": {
        "sv": "**Granskningslogg**, de {count} senaste posterna (nyast först):",
        "en": "**Audit log**, the latest {count} entries (newest first):",
    },
    "audit_empty": {"sv": "Granskningsloggen är tom.", "en": "The audit log is empty."},
    "audit_refused": {"sv": "nekad", "en": "refused"},
    "audit_done": {"sv": "utförd", "en": "done"},
    "rem_roles": {
        "sv": "Det kommandot får bara ambassadörer och HR använda. Kontakta HR om du behöver behörighet.",
        "en": "Only ambassadors and HR may use that command. Contact HR if you need access.",
    },
    "rem_templates_head": {"sv": "Mallar för påminnelser:", "en": "Reminder templates:"},
    "rem_templates_none": {"sv": "Det finns inga mallar.", "en": "There are no templates."},
    "rem_hr_cannot_send": {
        "sv": "Påminnelser skickas av enheternas ambassadörer till deras egna kanaler.",
        "en": "Reminders are sent by the units' ambassadors to their own channels.",
    },
}

DAY_NAMES = {
    "sv": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MODE_NAMES = {
    "ordinarie": {"sv": "Ordinarie läge", "en": "Normal mode"},
    "aktiverat": {"sv": "Aktiverat läge", "en": "Activated mode"},
}


def bt(key: str, lang: str, **kwargs: Any) -> str:
    """The broadcast text for `key` in `lang` (Swedish when the language is unknown)."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["sv"]
    return text.format(**kwargs) if kwargs else text


MONTH_NAMES = {
    "sv": (
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def format_day(day: date, lang: str) -> str:
    """ "6 januari 2027" / "6 January 2027"."""
    month = MONTH_NAMES[lang if lang in MONTH_NAMES else "sv"][day.month - 1]
    return f"{day.day} {month} {day.year}"


def format_moment(moment: datetime, tz: ZoneInfo, lang: str) -> str:
    """ "måndag 30 november 2026 kl 08:00" in the organisation's time zone."""
    local = moment.astimezone(tz)
    lang = lang if lang in DAY_NAMES else "sv"
    day = DAY_NAMES[lang][local.weekday()]
    month = MONTH_NAMES[lang][local.month - 1]
    if lang == "en":
        return f"{day} {local.day} {month} {local.year} at {local:%H:%M}"
    return f"{day} {local.day} {month} {local.year} kl {local:%H:%M}"
