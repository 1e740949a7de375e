"""The demo catalog: categories, partners, 70-odd listings with releases,
screenshots, reviews, badges and collections, and one demo user per role.

Everything is built from ``random.Random(DEMO_SEED)``, so every run makes the
same catalog (only the dates move with today). Listings go through the
lifecycle services (create, add a release, submit, approve), so the demo obeys
the same rules as real data. ``load_demo`` never commits; the CLI does.
"""

from __future__ import annotations

import colorsys
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from sqlmodel import Session, col, select

from listings.models import (
    BadgeKind,
    Category,
    Listing,
    ListingCreate,
    ListingStatus,
    Partner,
    PartnerTier,
    Release,
    ReleaseCreate,
    ReleaseStatus,
    ReviewCreate,
)
from listings.screenshots import save_screenshot, screenshot_path
from listings.scopes import SCOPES
from listings.services import (
    add_release,
    approve_listing,
    award_badge,
    create_collection,
    current_release,
    create_listing,
    get_or_create_category,
    get_or_create_partner,
    moderate_review,
    post_review,
    reply_to_review,
    reviewing_install,
    set_collection_items,
    submit_for_review,
    unique_slug,
)
from storefront.db import utcnow
from storefront.models import Install, InstallStatus, Role, User
from storefront.services import create_workspace, current_workspace, hash_password

DEMO_PASSWORD = "bazaar-demo-2026"
# A Northwind Labs app (the demo partner's) sold at $29 a month without a trial.
DEMO_PAID_APP = "Payline Commissions"
DEMO_SEED = 2026
DEMO_USERS = [
    ("customer@example.com", Role.CUSTOMER.value),
    ("partner@example.com", Role.PARTNER.value),
    ("editor@example.com", Role.EDITOR.value),
    ("admin@example.com", Role.ADMIN.value),
]
_DEMO_NAMES = {
    "customer@example.com": "Casey Morgan",
    "partner@example.com": "Priya Patel",
    "editor@example.com": "Elena Ruiz",
    "admin@example.com": "Sam Okafor",
}
# Customers who write the demo reviews, besides customer@example.com.
REVIEWERS = [
    ("maya.chen@example.com", "Maya Chen"),
    ("tom.becker@example.com", "Tom Becker"),
    ("aisha.khan@example.com", "Aisha Khan"),
    ("lucas.silva@example.com", "Lucas Silva"),
    ("hannah.weiss@example.com", "Hannah Weiss"),
    ("kenji.sato@example.com", "Kenji Sato"),
    ("olivia.brown@example.com", "Olivia Brown"),
    ("noah.dubois@example.com", "Noah Dubois"),
]

# name, description, scopes an app of this kind plausibly asks for, usage unit (name, price)
CATEGORIES = [
    ("CRM sync", "Keep contacts, companies and deals in step with the CRM you already use.",
     ["contacts:read", "contacts:write", "deals:read", "deals:write", "webhooks:manage"],
     ("1,000 synced records", 150)),
    ("Sales enablement", "Content, coaching and quoting tools that help reps close.",
     ["deals:read", "deals:write", "contacts:read", "files:read", "messages:send"],
     ("active rep", 900)),
    ("Marketing automation", "Campaigns, forms and nurture journeys driven by your customer data.",
     ["contacts:read", "contacts:write", "messages:send", "analytics:read", "webhooks:manage"],
     ("1,000 contacts", 500)),
    ("Analytics & reporting", "Dashboards, scheduled reports and exports to your warehouse.",
     ["analytics:read", "deals:read", "tickets:read", "contacts:read", "users:read"],
     ("1,000 rows processed", 25)),
    ("Customer support", "Help desks, chat and satisfaction surveys connected to the customer.",
     ["tickets:read", "tickets:write", "contacts:read", "messages:send", "users:read"],
     ("resolved ticket", 10)),
    ("Communication", "Chat, SMS, email and meetings, logged where your team works.",
     ["messages:send", "contacts:read", "calendar:read", "calendar:write", "webhooks:manage"],
     ("1,000 messages", 120)),
    ("Project management", "Boards, timelines and time tracking linked to customers.",
     ["tickets:read", "deals:read", "users:read", "calendar:read", "files:read"],
     ("active project", 300)),
    ("Productivity", "Documents, calendars, notes and signatures without switching apps.",
     ["files:read", "files:write", "calendar:read", "calendar:write", "contacts:read"],
     ("active user", 200)),
    ("Developer tools", "Webhooks, automations, imports and monitoring for builders.",
     ["webhooks:manage", "settings:write", "contacts:read", "contacts:write", "files:write"],
     ("1,000 API calls", 30)),
    ("Security & compliance", "Single sign-on, backups, audits and privacy requests.",
     ["users:read", "settings:write", "analytics:read", "files:read", "billing:read"],
     ("protected user", 200)),
    ("Finance & accounting", "Invoices, payments, expenses and revenue, in sync with your books.",
     ["billing:read", "deals:read", "contacts:read", "files:write"],
     ("processed document", 15)),
    ("HR & people", "Onboarding, time off, hiring and engagement for growing teams.",
     ["users:read", "calendar:read", "calendar:write", "files:read", "messages:send"],
     ("active employee", 250)),
]

# Partner i makes the apps of categories i and i+1 (three each), so every
# partner has a plausible focus. (name, tier)
PARTNERS = [
    ("Northwind Labs", PartnerTier.PREMIER),
    ("Brightfunnel", PartnerTier.SELECT),
    ("Signalpath", PartnerTier.PREMIER),
    ("Clearview Data", PartnerTier.SELECT),
    ("Helpwise", PartnerTier.REGISTERED),
    ("Parley Systems", PartnerTier.SELECT),
    ("Taskforge", PartnerTier.PREMIER),
    ("Tidewater Software", PartnerTier.REGISTERED),
    ("Stackyard", PartnerTier.SELECT),
    ("Bastion Trust", PartnerTier.PREMIER),
    ("Ledgerline", PartnerTier.SELECT),
    ("Peoplecraft", PartnerTier.REGISTERED),
]
DEMO_PARTNER = "Northwind Labs"  # the partner partner@example.com belongs to

# Six apps per category, in CATEGORIES order: name, tagline, features, tags.
APPS = [
    # CRM sync
    [("PipeSync for Salesforce", "Two-way sync of contacts, companies and deals with Salesforce, "
      "in near real time.", ["Map standard and custom fields, including custom objects",
                             "Choose which side wins when both changed",
                             "Replay any failed sync from the history with one click"],
      ["salesforce", "sync", "crm"]),
     ("HubBridge", "Keep HubSpot and your workspace in step without CSV exports.",
      ["Contacts, companies and deals sync both ways", "Lifecycle stages mapped to your pipeline",
       "Activity timeline copied onto each contact"], ["hubspot", "sync", "crm"]),
     ("Contact Merge Pro", "Find and merge duplicate contacts before they confuse your sales team.",
      ["Fuzzy matching on name, email and phone", "Review suggested merges in bulk",
       "Undo any merge for 30 days"], ["deduplication", "data-quality", "contacts"]),
     ("Dealflow Mirror", "Mirror Pipedrive pipelines and deal stages into your workspace.",
      ["Stages, owners and values kept in step", "Won and lost reasons carried across",
       "Pick which pipelines to mirror"], ["pipedrive", "deals", "sync"]),
     ("Enrich Now", "Fill in job titles, company size and industry for new contacts automatically.",
      ["Enrichment within seconds of a contact being created", "Only empty fields are filled",
       "Monthly report of what changed"], ["enrichment", "contacts", "data-quality"]),
     ("ZohoConnect", "Sync Zoho CRM leads, accounts and activities both ways.",
      ["Leads become contacts, accounts become companies", "Calls and meetings logged as "
       "activities", "Hourly or real-time sync"], ["zoho", "sync", "crm"])],
    # Sales enablement
    [("Pitchdeck Library", "One searchable home for approved decks, one-pagers and case studies.",
      ["Suggests content by deal stage and industry", "See which decks prospects opened",
       "Retire outdated versions everywhere at once"], ["content", "sales", "library"]),
     ("CallScribe", "Record, transcribe and summarise sales calls straight onto the deal.",
      ["Transcripts in 14 languages", "Action items pulled out of every call",
       "Talk-time and question-rate coaching"], ["calls", "transcription", "coaching"]),
     ("QuoteSmith", "Build branded quotes from your price book and get them signed online.",
      ["Discount rules and approval steps", "Quotes in any currency you sell in",
       "Signed quotes close the deal automatically"], ["quotes", "cpq", "sales"]),
     ("Payline Commissions", "Show reps what they earn as deals close, with no spreadsheet.",
      ["Tiered and split commission plans", "Statements each rep can check",
       "Export payouts to payroll"], ["commissions", "sales", "compensation"]),
     ("Sequence Studio", "Multi-step email and call sequences that pause when a prospect replies.",
      ["Personalised steps with merge fields", "Automatic pause on reply or meeting booked",
       "A/B test subject lines"], ["outreach", "email", "sequences"]),
     ("Rival Cards", "Competitive battlecards that appear on the deal when a rival is mentioned.",
      ["Cards kept up to date by product marketing", "Win/loss notes linked to each rival",
       "Works inside the deal view"], ["competitive", "battlecards", "sales"])],
    # Marketing automation
    [("Campaign Canvas", "Drag-and-drop journeys across email, SMS and in-app messages.",
      ["Branching on opens, clicks and deal stage", "Quiet hours per time zone",
       "Goal tracking for every journey"], ["campaigns", "journeys", "email"]),
     ("FormFlow", "Embeddable forms that create contacts and start nurture flows.",
      ["Accessible, mobile-friendly forms", "Spam protection without captchas",
       "Progressive profiling on return visits"], ["forms", "lead-capture", "marketing"]),
     ("Lead Score Studio", "Score leads on fit and behaviour, and hand hot ones to sales.",
      ["Rules you can read, not a black box", "Decay for leads that go quiet",
       "Alerts to the owner when a lead crosses the line"], ["lead-scoring", "marketing", "sales"]),
     ("Dispatch Newsletters", "Write, schedule and measure newsletters to your own contact lists.",
      ["Markdown editor with live preview", "Segments built from contact fields",
       "Unsubscribes honoured everywhere at once"], ["newsletter", "email", "marketing"]),
     ("Landing Kit", "Fast, accessible landing pages with A/B tests built in.",
      ["Templates that pass WCAG AA", "Split tests with significance shown",
       "Form submissions land as contacts"], ["landing-pages", "ab-testing", "marketing"]),
     ("Postwise", "Plan and publish social posts, and track replies as contact activity.",
      ["One calendar for every network", "Approval step for brand-sensitive posts",
       "Replies matched to known contacts"], ["social", "scheduling", "marketing"])],
    # Analytics & reporting
    [("Metricboard", "Live dashboards for pipeline, revenue and support in one place.",
      ["30 ready-made charts", "Share a dashboard by link or on a TV",
       "Drill down from any chart to the records"], ["dashboards", "analytics", "reporting"]),
     ("Cohort Lens", "Retention and cohort analysis without writing SQL.",
      ["Cohorts by signup month, plan or source", "Churn curves with benchmarks",
       "Export any chart as CSV"], ["cohorts", "retention", "analytics"]),
     ("Report Mailer", "Scheduled PDF and CSV reports delivered to inboxes every Monday.",
      ["Any saved view becomes a report", "Daily, weekly or monthly schedules",
       "Only sends when the numbers changed, if you like"], ["reports", "email", "scheduling"]),
     ("Tablesync", "Stream your workspace data to BigQuery, Snowflake or PostgreSQL.",
      ["Incremental loads every 15 minutes", "Schema changes handled for you",
       "Deleted records flagged, not lost"], ["warehouse", "etl", "bigquery"]),
     ("Forecaster", "Revenue forecasts from your pipeline history, with confidence ranges.",
      ["Forecast by team, region or product", "Compare forecast with actuals",
       "What-if scenarios for next quarter"], ["forecasting", "revenue", "analytics"]),
     ("Northstar Goals", "Set team targets and watch progress update as work happens.",
      ["Goals from any metric in your workspace", "Weekly check-ins by email",
       "Leaderboards that can be switched off"], ["goals", "okrs", "reporting"])],
    # Customer support
    [("DeskLink for Zendesk", "See Zendesk tickets next to the customer record, and reply from "
      "either side.", ["Ticket history on every contact", "Create tickets from a deal",
                       "Status changes synced both ways"], ["zendesk", "tickets", "support"]),
     ("ReplyKit", "Saved replies and macros with placeholders that fill themselves.",
      ["Placeholders for name, plan and order", "Shared and personal reply libraries",
       "Usage stats to prune old replies"], ["macros", "support", "productivity"]),
     ("CSAT Pulse", "One-click satisfaction surveys after every solved ticket.",
      ["Email and in-chat surveys", "Scores per agent and per topic",
       "Follow-up task on every bad rating"], ["csat", "surveys", "support"]),
     ("Answerbase", "A help centre your customers can search, written in Markdown.",
      ["Article suggestions while customers type a ticket", "Versioned articles with review",
       "Search terms that found nothing, reported weekly"], ["knowledge-base", "help-center",
                                                             "self-service"]),
     ("SLA Guard", "Warns agents before a ticket breaches its response time.",
      ["Business hours and holidays per team", "Escalation to a lead before the breach",
       "Monthly SLA report"], ["sla", "support", "alerts"]),
     ("Chatterbox Live Chat", "A lightweight chat widget that turns conversations into tickets.",
      ["Under 20 KB on your page", "Offline messages become tickets",
       "Transcripts saved on the contact"], ["chat", "support", "widget"])],
    # Communication
    [("Relay for Slack", "Post deal wins, new tickets and alerts to the right Slack channel.",
      ["Rules per channel and per event", "Reply in Slack, logged in the workspace",
       "Daily summaries instead of pings, if you prefer"], ["slack", "notifications", "chat"]),
     ("Teamspost", "Microsoft Teams notifications and approvals from your workspace.",
      ["Approve discounts from a Teams card", "Mentions notify the right person",
       "Works with private channels"], ["microsoft-teams", "notifications", "approvals"]),
     ("Textline", "Two-way SMS with customers, logged on their contact record.",
      ["Local numbers in 30 countries", "Opt-out handling built in",
       "Shared inbox for the whole team"], ["sms", "messaging", "customers"]),
     ("Slotfinder", "Let customers book meetings in open slots on your team's calendars.",
      ["Round-robin and collective booking", "Buffers and daily limits",
       "Booked meetings logged as activities"], ["scheduling", "meetings", "calendar"]),
     ("Opened", "Know when an email is opened and a link is clicked.",
      ["Notifications in the browser or by email", "Open history on the contact",
       "Tracking can be turned off per message"], ["email-tracking", "email", "sales"]),
     ("Loopcast", "Record short video messages and send them in place of long emails.",
      ["Screen and camera together", "Viewer analytics per contact",
       "Captions generated for every video"], ["video", "messaging", "async"])],
    # Project management
    [("Boardwalk", "Kanban boards linked to customers, so delivery and sales see the same work.",
      ["Cards linked to deals and tickets", "WIP limits per column",
       "Board templates for onboarding projects"], ["kanban", "projects", "boards"]),
     ("Timeline Pro", "Gantt charts with dependencies and milestone alerts.",
      ["Drag to reschedule with dependencies", "Critical path highlighted",
       "Milestones on your team calendar"], ["gantt", "planning", "projects"]),
     ("Jira Connector", "Link Jira issues to tickets and deals and keep their status in sync.",
      ["Create an issue from any ticket", "Status and comments flow back",
       "See every customer waiting on an issue"], ["jira", "issues", "sync"]),
     ("Clockwise Time", "One-click timers on tasks, with billable hours ready for invoicing.",
      ["Timers in the browser and on mobile", "Billable and non-billable rates",
       "Timesheets approved by managers"], ["time-tracking", "billing", "timesheets"]),
     ("Capacity", "See who is overbooked next week before it becomes a problem.",
      ["Workload by person and by skill", "Time off pulled in automatically",
       "What-if planning for new projects"], ["resourcing", "planning", "capacity"]),
     ("Portal Pages", "Share project status with clients on a branded page.",
      ["Milestones and files clients can see", "Comments without a client login",
       "Your logo and colours"], ["client-portal", "projects", "sharing"])],
    # Productivity
    [("DriveSync", "Attach Google Drive and OneDrive files to any record, always the latest "
      "version.", ["Files open in place", "Permissions respected",
                   "Search file names from the workspace"], ["google-drive", "onedrive", "files"]),
     ("Templatr", "Generate contracts and letters from templates filled with record data.",
      ["Word and Google Docs templates", "Conditional sections",
       "PDF saved back on the record"], ["documents", "templates", "automation"]),
     ("Daily Digest", "A morning email with the tasks, meetings and deals that need you today.",
      ["Sent at 8 a.m. in your time zone", "Snooze items for later",
       "Skips weekends and holidays"], ["digest", "email", "focus"]),
     ("CalendarBridge", "Two-way sync between your workspace and Google or Outlook calendars.",
      ["Meetings logged on the right contacts", "Private events stay private",
       "Works with shared calendars"], ["calendar", "google", "outlook"]),
     ("Scratchpad", "Shared notes with checklists, mentions and reminders.",
      ["Notes linked to any record", "Markdown with slash commands",
       "Reminders by email or chat"], ["notes", "collaboration", "checklists"]),
     ("Signhere", "Send documents for legally binding e-signature and file the signed copy.",
      ["Signing order and reminders", "Audit certificate with every document",
       "Signed PDF stored on the record"], ["e-signature", "documents", "contracts"])],
    # Developer tools
    [("Hooklog", "Inspect, replay and debug every webhook your workspace sends.",
      ["Full request and response history", "Replay to any URL",
       "Alerts on repeated failures"], ["webhooks", "debugging", "developers"]),
     ("Sandbox Console", "Try API calls against a safe copy of your workspace data.",
      ["Anonymised copy refreshed nightly", "Share a request as a link",
       "Code snippets in six languages"], ["api", "sandbox", "developers"]),
     ("Pipework Automations", "If-this-then-that automations between your workspace and 300 "
      "services.", ["Visual builder with code steps", "Retries with back-off",
                    "Run history you can search"], ["automation", "integrations", "no-code"]),
     ("Bulk Loader", "Import CSV and Excel files with field mapping, validation and undo.",
      ["Saved mappings for repeat imports", "Preview of every change before it runs",
       "Undo a whole import"], ["import", "csv", "data"]),
     ("Schema Studio", "Design custom objects and fields, and version them like code.",
      ["Changes reviewed before they go live", "Export the schema as YAML",
       "Roll back to any version"], ["schema", "custom-fields", "admin"]),
     ("Uptime Beacon", "Monitor your integrations and get alerts on failed syncs.",
      ["Checks every minute", "Status page for your team",
       "Incidents posted to chat"], ["monitoring", "alerts", "status"])],
    # Security & compliance
    [("Audit Vault", "Tamper-evident copies of your audit log, kept for seven years.",
      ["Hash-chained archive", "Search by user, object or date",
       "Evidence exports for auditors"], ["audit", "compliance", "retention"]),
     ("Gatekeeper SSO", "SAML and OIDC single sign-on with automatic user provisioning.",
      ["Works with Okta, Entra ID and Google", "SCIM provisioning and deprovisioning",
       "Enforce SSO for everyone or per group"], ["sso", "saml", "identity"]),
     ("Consent Ledger", "Track consent and answer data subject requests on time.",
      ["Consent history per contact", "Access and erasure requests with deadlines",
       "Records of processing kept for you"], ["gdpr", "privacy", "consent"]),
     ("Snapshot Backup", "Nightly encrypted backups of your records and files, restorable in "
      "minutes.", ["Point-in-time restore of single records", "Backups kept in your region",
                   "Restore tests reported monthly"], ["backup", "recovery", "security"]),
     ("Redact", "Find and mask card numbers and ID numbers in tickets and notes.",
      ["Detects 40 kinds of sensitive data", "Masks on arrival, not later",
       "Reports of what was found"], ["dlp", "pii", "security"]),
     ("Access Review", "Quarterly access reviews with evidence your auditor will accept.",
      ["Reviewers see only their team", "Revoke access in one click",
       "SOC 2 and ISO 27001 evidence packs"], ["access-review", "soc2", "compliance"])],
    # Finance & accounting
    [("Ledger Sync for QuickBooks", "Turn won deals into QuickBooks invoices and sync payments "
      "back.", ["Invoice on deal won or on a date", "Payments update the deal",
                "Tax codes mapped per product"], ["quickbooks", "invoicing", "accounting"]),
     ("Xero Bridge", "Invoices, payments and contacts shared with Xero both ways.",
      ["Multi-currency invoices", "Overdue invoices flagged on the contact",
       "Tracking categories from deal fields"], ["xero", "invoicing", "accounting"]),
     ("Receipt Snap", "Snap receipts, code expenses and approve them in one place.",
      ["Receipt details read from the photo", "Policies checked before approval",
       "Export to your accounting system"], ["expenses", "receipts", "finance"]),
     ("Collect", "Friendly, automatic reminders for overdue invoices.",
      ["Reminder schedules you control", "Pay-by-link in every email",
       "Pauses when a customer replies"], ["dunning", "payments", "invoices"]),
     ("RevRec", "Recognise subscription revenue by the rules, month by month.",
      ["ASC 606 and IFRS 15 schedules", "Deferred revenue waterfall",
       "Journal entries ready to post"], ["revenue-recognition", "subscriptions", "accounting"]),
     ("FX Rates", "Daily exchange rates on every deal and invoice in a foreign currency.",
      ["Rates from central banks", "Historical rates for past dates",
       "Reports in your home currency"], ["currency", "fx", "finance"])],
    # HR & people
    [("Welcome Aboard", "Onboarding checklists that assign tasks to IT, HR and the new hire's "
      "manager.", ["Checklists per role and office", "Accounts requested on day one",
                   "Progress visible to everyone involved"], ["onboarding", "hr", "checklists"]),
     ("Leavebook", "Request and approve time off, and see who is out on the team calendar.",
      ["Allowances per country", "Approvals from email or chat",
       "Public holidays built in"], ["time-off", "leave", "calendar"]),
     ("Orgchart Live", "An always-current org chart built from your user directory.",
      ["Search by name, team or skill", "Open roles shown as placeholders",
       "Print-ready export"], ["org-chart", "directory", "people"]),
     ("Hirepath", "Track candidates from application to offer, with interview scorecards.",
      ["Job pages that match your site", "Structured scorecards per stage",
       "Offer letters from templates"], ["recruiting", "ats", "hiring"]),
     ("One on One", "Shared agendas and notes for manager one-to-ones.",
      ["Recurring agendas with talking points", "Private notes for each side",
       "Action items carried forward"], ["one-on-one", "management", "meetings"]),
     ("Pulse Check", "Short anonymous engagement surveys with trends by team.",
      ["Question bank backed by research", "Anonymity threshold you set",
       "Trends and comments by team"], ["engagement", "surveys", "people"])],
]

SCOPE_REASONS = {
    "contacts:read": "{app} matches its records to your contacts by email address.",
    "contacts:write": "{app} creates and updates contacts when their details change on the "
                      "other side.",
    "deals:read": "{app} reads deal stages and amounts to build its views and reports.",
    "deals:write": "{app} updates deal stages and values so both systems show the same "
                   "pipeline.",
    "tickets:read": "{app} reads tickets to show their status next to the related work.",
    "tickets:write": "{app} adds replies and status changes made on its side to the ticket.",
    "messages:send": "{app} sends the messages you schedule, from your own address.",
    "files:read": "{app} opens the files you attach so it can show previews.",
    "files:write": "{app} saves the documents it generates back onto the record.",
    "calendar:read": "{app} checks free and busy times so it never double-books anyone.",
    "calendar:write": "{app} adds the meetings it books to the right person's calendar.",
    "users:read": "{app} lists your teammates so you can assign work and owners.",
    "analytics:read": "{app} reads your usage reports to chart trends over time.",
    "billing:read": "{app} reads your invoices to reconcile them with your books.",
    "settings:write": "{app} turns on the workspace settings it needs, and only those.",
    "webhooks:manage": "{app} subscribes to change events so updates arrive within seconds "
                       "instead of by polling.",
}

INTROS = [
    "**{app}** is built for teams that are tired of copying data by hand. {tagline}",
    "{tagline} **{app}** connects to your workspace in a couple of minutes and then stays out "
    "of your way.",
    "Teams use **{app}** because it does one job well: {lower_tagline}",
    "With **{app}**, {lower_tagline} No scripts, no exports, no nightly spreadsheets.",
]
HOW_IT_WORKS = [
    "Once installed, {app} watches for changes in your workspace and acts on them within "
    "seconds. Everything it does is logged, so you can always see what changed and why.",
    "Setup takes a few minutes: approve the permissions, choose what {app} should handle, "
    "and you are done. Defaults are sensible, and every rule can be changed later.",
    "{app} runs quietly in the background. When something needs a person, it tells the right "
    "one, by email or in chat, with a link straight to the record.",
]
CLOSERS = [
    "Questions? Our support team answers within one business day, and most answers are "
    "already in the help centre.",
    "We publish our roadmap and changelog, and we read every piece of feedback.",
    "Used by more than {customers:,} teams. Start with the free tier or a trial and upgrade "
    "when you are ready.",
]
STEPS = [
    "Install {app} from Bazaar and approve the permissions it asks for.",
    "Pick what to connect and how often.",
    "Invite your team: they see {app} inside the records they already use.",
]
CHANGELOGS = [
    "First public release.",
    "Faster sync and clearer error messages.",
    "New: bulk actions. Fixed: time zones in exported reports.",
    "Supports custom fields; settings page redesigned.",
    "Security hardening and dependency updates.",
    "Keyboard shortcuts and a new onboarding guide.",
]

REVIEW_TEXT = {
    5: [("Exactly what we needed", "Set it up in ten minutes and it has run without a hiccup "
         "since. The team stopped asking me where the data went."),
        ("Saves us hours every week", "We used to do this by hand every Friday. Now it just "
         "happens, and the logs make it easy to trust."),
        ("Best app in our stack", "Clean, fast, and support answered my one question within "
         "the hour.")],
    4: [("Very good, a few rough edges", "Does the main job really well. The settings page "
         "could be clearer, but once configured it is solid."),
        ("Reliable", "A couple of small gaps in the reporting, otherwise it works as "
         "advertised and the price is fair."),
        ("Recommended", "Took a little while to map our custom fields, but worth it.")],
    3: [("Does the job", "Works for the basics. We needed more filters than it offers today."),
        ("OK, but pricey for us", "Good product; as a small team the price is hard to "
         "justify beyond the trial.")],
    2: [("Sync delays", "Changes sometimes take an hour to show up. Support was helpful but "
         "it is not fixed yet.")],
    1: [("Did not work for our setup", "We could not get it to handle our second pipeline "
         "and had to uninstall.")],
}
REPLIES = [
    "Thank you for the kind words! We are glad it fits your team.",
    "Thanks for the feedback. Better filters are on our roadmap for next quarter; we will "
    "let you know when they ship.",
    "Sorry about the delays. We found the cause and a fix is rolling out this week; please "
    "reach out to support if you still see it.",
    "Thanks for trying us. Multiple pipelines are supported since 2.1; we would be happy to "
    "help you set it up.",
]
COLLECTIONS = [
    ("Essentials for small teams", "Our editors' pick of apps that pay for themselves in the "
                                   "first month."),
    ("Your data stays in the EU", "Apps that keep customer data in the European Union."),
    ("Build a support stack", "Everything a growing support team needs, working together."),
]


@dataclass
class DemoSummary:
    """Counts of what ``load_demo`` made."""

    categories: int = 0
    partners: int = 0
    listings: int = 0
    published: int = 0
    screenshots: int = 0
    reviews: int = 0
    badges: int = 0
    collections: int = 0

    def __str__(self) -> str:
        return (f"{self.categories} categories, {self.partners} partners, {self.listings} "
                f"listings ({self.published} published), {self.screenshots} screenshots, "
                f"{self.reviews} reviews, {self.badges} badges, {self.collections} collections")


def demo_loaded(session: Session) -> bool:
    """True when any demo user already exists."""
    emails = [email for email, _ in DEMO_USERS]
    return session.exec(select(User.id).where(col(User.email).in_(emails))).first() is not None


def load_demo(session: Session, upload_folder: str,
              echo: Callable[[str], None] = print) -> DemoSummary | None:
    """Build the demo catalog; None (and nothing changed) when it is already there.

    Screenshot files written before an error are removed again; the caller
    commits, or rolls back on error.
    """
    if demo_loaded(session):
        return None
    rng = random.Random(DEMO_SEED)
    now = utcnow()
    summary = DemoSummary()
    written: list[Path] = []
    try:
        _build(session, upload_folder, rng, now, summary, written, echo)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return summary


def _build(session: Session, upload_folder: str, rng: random.Random, now: datetime,
           summary: DemoSummary, written: list[Path], echo: Callable[[str], None]) -> None:
    echo("Creating users...")
    password_hash = hash_password(DEMO_PASSWORD)  # once: Argon2 is slow on purpose
    users = {email: _user(session, email, _DEMO_NAMES[email], role, password_hash)
             for email, role in DEMO_USERS}
    editor = users["editor@example.com"]
    customer = users["customer@example.com"]
    if current_workspace(session, customer) is None:  # the demo customer can install apps
        create_workspace(session, f"{customer.display_name}'s workspace", customer)
    # Reviews are verified: each reviewer's workspace has installed what it reviews.
    # The demo customer reviews nothing, so their workspace starts empty.
    reviewers = [_user(session, email, name, Role.CUSTOMER.value, password_hash)
                 for email, name in REVIEWERS]
    reviewer_workspaces = {}
    for reviewer in reviewers:
        reviewer_workspaces[reviewer.id] = (
            current_workspace(session, reviewer)
            or create_workspace(session, f"{reviewer.display_name}'s workspace", reviewer))

    echo("Creating categories and partners...")
    categories = []
    for position, (name, description, _, _) in enumerate(CATEGORIES, start=1):
        category = get_or_create_category(session, name)
        category.description = description
        category.position = position
        session.add(category)
        categories.append(category)
    partners = []
    for name, tier in PARTNERS:
        partner = get_or_create_partner(session, name)
        partner.tier = tier.value
        partner.website_url = f"https://{partner.slug}.example.com"
        session.add(partner)
        partners.append(partner)
    summary.categories, summary.partners = len(categories), len(partners)
    partner_user = users["partner@example.com"]
    partner_user.partner_id = partners[0].id
    session.add(partner_user)
    session.flush()

    # Which apps are not live yet, as (category index, app index): the demo
    # partner has a draft and one in review, and a few others wait in the queue.
    drafts = {(0, 2), (7, 2), (10, 5)}
    in_review = {(1, 5), (4, 3), (8, 4)}

    echo("Creating listings, releases and screenshots...")
    listings: list[Listing] = []
    for cat_index, apps in enumerate(APPS):
        for app_index, app in enumerate(apps):
            # Apps 0-2 of a category belong to its own partner, 3-5 to the previous one.
            partner = partners[cat_index if app_index < 3 else (cat_index - 1) % len(partners)]
            if (cat_index, app_index) in drafts:
                status = ListingStatus.DRAFT
            elif (cat_index, app_index) in in_review:
                status = ListingStatus.IN_REVIEW
            else:
                status = ListingStatus.PUBLISHED
            listing = _listing(session, rng, now, app, categories[cat_index], cat_index, partner,
                               status, editor)
            colour = _colour(rng)  # one brand colour per app
            for position in range(rng.randint(2, 4)):
                data = screenshot_png(listing.name, colour, position)
                shot = save_screenshot(session, listing, data, _caption(listing.name, position),
                                       upload_folder)
                written.append(screenshot_path(upload_folder, shot.filename))
                summary.screenshots += 1
            listings.append(listing)
        echo(f"  {len(listings)} listings")
    summary.listings = len(listings)
    published = [listing for listing in listings if listing.status == ListingStatus.PUBLISHED]
    summary.published = len(published)

    echo("Writing reviews...")
    written_count = 0
    for listing in published:
        count = rng.choice([0, 1, 2, 3, 3, 4, 5, 6])
        for author in rng.sample(reviewers, count):
            rating = rng.choices([5, 4, 3, 2, 1], weights=[45, 30, 12, 8, 5])[0]
            title, body = rng.choice(REVIEW_TEXT[rating])
            workspace = reviewer_workspaces[author.id]
            installed_at = _between(rng, listing.published_at, now - timedelta(days=1))
            _install(session, rng, listing, workspace, author, installed_at, now)
            review = post_review(session, listing, author,
                                 ReviewCreate(rating=rating, title=title, body=body), workspace)
            review.created_at = _between(rng, installed_at, now)
            session.add(review)
            written_count += 1
            # Every 25th review waits in the editors' moderation queue.
            if written_count % 25 == 7:
                continue
            moderate_review(session, review, editor, publish=True)
            review.moderated_at = _between(rng, review.created_at, now)
            if rng.random() < (0.8 if rating <= 3 else 0.2):
                reply = REPLIES[0] if rating >= 4 else rng.choice(REPLIES[1:])
                reply_to_review(session, review, reply)
                review.replied_at = _between(rng, review.moderated_at, now)
    summary.reviews = written_count

    echo("Awarding badges and building collections...")
    kinds = [(BadgeKind.STAFF_PICK, 90), (BadgeKind.SECURITY_REVIEWED, 365),
             (BadgeKind.BUILT_FOR_BAZAAR, None), (BadgeKind.TOP_RATED, 30)]
    for listing in rng.sample(published, 14):
        kind, days = rng.choice(kinds)
        expires = now + timedelta(days=days) if days else None
        award_badge(session, listing, editor, kind.value, expires,
                    note=f"Awarded by the Bazaar editors in {now:%B %Y}.")
        summary.badges += 1
    starters = [listing for listing in published if listing.trial_days or listing.is_free]
    essentials = rng.sample(starters, min(8, len(starters)))
    in_eu = [listing for listing in published if "eu" in listing.data_residency][:8]
    support = [listing for listing in published
               if listing.category_id in (categories[4].id, categories[5].id)][:7]
    for (name, description), members in zip(COLLECTIONS, [essentials, in_eu, support],
                                            strict=True):
        collection = create_collection(session, editor, name, description)
        set_collection_items(session, collection, editor, [listing.id for listing in members])
        summary.collections += 1
    session.flush()


def _install(session: Session, rng: random.Random, listing: Listing, workspace, user: User,
             installed_at: datetime, now: datetime) -> None:
    """A past install of ``listing`` by a reviewer's workspace (some since uninstalled).

    Written directly, like imported history: the partner is not sent a webhook.
    """
    if reviewing_install(session, listing, workspace) is not None:
        return
    release = current_release(session, listing.id)
    install = Install(workspace_id=workspace.id, listing_id=listing.id, release_id=release.id,
                      granted_scopes=list(release.scope_names), installed_by_id=user.id,
                      created_at=installed_at)
    if rng.random() < 0.2:
        install.status = InstallStatus.UNINSTALLED
        install.granted_scopes = []
        install.uninstalled_at = _between(rng, installed_at, now)
    session.add(install)
    session.flush()


def _user(session: Session, email: str, name: str, role: str, password_hash: str) -> User:
    """The demo account; a reviewer who already signed up is reused as they are."""
    user = session.exec(select(User).where(User.email == email)).first()
    if user is not None:
        return user
    user = User(email=email, display_name=name, role=role, password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


def _listing(session: Session, rng: random.Random, now: datetime, app: tuple, category: Category,
             cat_index: int, partner: Partner, status: ListingStatus, editor: User) -> Listing:
    name, tagline, features, tags = app
    _, _, scope_pool, (unit_name, unit_price) = CATEGORIES[cat_index]
    slug = unique_slug(session, Listing, name)
    base = f"https://{partner.slug}.example.com"
    pricing = _pricing(rng, unit_name, unit_price)
    drawn_model = pricing["pricing_model"]
    if name == DEMO_PAID_APP:
        # The demo partner sells one app outright, so checkout, invoices and its
        # revenue pages have something to show. The random draws still happen in
        # the same order, so every other app stays as it was.
        pricing = {"pricing_model": "flat_monthly", "currency": "usd", "monthly_price": 2900}
    data = ListingCreate(
        slug=slug, name=name, tagline=tagline,
        description=_description(rng, name, tagline, features, pricing),
        tags=tags + rng.sample(["integration", "automation", "small-business", "enterprise",
                                "gdpr-ready", "api"], rng.randint(0, 2)),
        trial_days=_trial_days(rng, drawn_model, name),
        website_url=f"{base}/{slug}", support_url=f"{base}/support",
        privacy_url=f"{base}/privacy",
        data_residency=_regions(rng),
        **pricing,
    )
    listing = create_listing(session, partner, category, data)
    major = rng.choice([1, 1, 2, 3])
    versions = [f"{major}.{rng.randint(0, 4)}.{rng.randint(0, 3)}"]
    if rng.random() < 0.5:
        first = versions[0].split(".")
        versions.append(f"{first[0]}.{int(first[1]) + 1}.0")
    for version in versions:
        chosen = rng.sample(scope_pool, rng.randint(2, min(4, len(scope_pool))))
        add_release(session, listing, ReleaseCreate(
            version=version,
            changelog=rng.choice(CHANGELOGS) if version != versions[0] or len(versions) == 1
            else CHANGELOGS[0],
            scopes=[{"scope": scope, "justification": SCOPE_REASONS[scope].format(app=name)}
                    for scope in chosen if scope in SCOPES],
            redirect_url=f"{base}/{slug}/oauth/callback",
            webhook_url=f"{base}/{slug}/webhooks" if rng.random() < 0.7 else None,
        ))
    if status != ListingStatus.DRAFT:
        submit_for_review(session, listing)
    if status == ListingStatus.PUBLISHED:
        approve_listing(session, listing, editor)
        # A few live apps have a newer release waiting in the editors' queue.
        if rng.random() < 0.12:
            add_release(session, listing, ReleaseCreate(
                version=f"{major + 1}.0.0", changelog="A new major version with bulk actions.",
                scopes=[{"scope": scope, "justification": SCOPE_REASONS[scope].format(app=name)}
                        for scope in scope_pool[:3]],
                redirect_url=f"{base}/{slug}/oauth/callback"))
    # Spread the dates over the past year, so "newest" means something.
    published_at = now - timedelta(days=rng.randint(2, 400), hours=rng.randint(0, 23))
    created_at = published_at - timedelta(days=rng.randint(3, 40))
    listing.created_at = created_at
    listing.updated_at = published_at
    if status == ListingStatus.PUBLISHED:
        listing.published_at = published_at
    elif status == ListingStatus.IN_REVIEW:
        listing.submitted_at = now - timedelta(days=rng.randint(0, 5))
    session.add(listing)
    releases = session.exec(select(Release).where(Release.listing_id == listing.id)
                            .order_by(Release.id)).all()
    for number, release in enumerate(releases):
        if release.review_status == ReleaseStatus.APPROVED:
            release.created_at = created_at + timedelta(days=number)
            release.reviewed_at = published_at
        else:  # still waiting for an editor: sent in recently
            release.created_at = now - timedelta(days=rng.randint(0, 6), hours=number)
        session.add(release)
    return listing


def _trial_days(rng: random.Random, drawn_model: str, name: str) -> int:
    days = rng.choice([0, 7, 14, 14, 30]) if drawn_model != "free" else 0
    return 0 if name == DEMO_PAID_APP else days


def _pricing(rng: random.Random, unit_name: str, unit_price: int) -> dict:
    model = rng.choices(["free", "flat_monthly", "usage"], weights=[30, 45, 25])[0]
    currency = rng.choices(["usd", "eur", "gbp"], weights=[80, 12, 8])[0]
    if model == "free":
        return {"pricing_model": model, "currency": currency}
    if model == "flat_monthly":
        return {"pricing_model": model, "currency": currency,
                "monthly_price": rng.choice([500, 900, 1200, 1900, 2900, 4900, 7900, 9900,
                                             14900])}
    return {"pricing_model": model, "currency": currency, "unit_name": unit_name,
            "unit_price": unit_price, "included_units": rng.choice([0, 10, 100, 1000]),
            "monthly_price": rng.choice([0, 0, 1900])}


def _regions(rng: random.Random) -> list[str]:
    regions = ["us"] if rng.random() < 0.85 else []
    regions += [code for code in ["eu", "uk", "ca", "au", "jp"] if rng.random() < 0.35]
    return regions or ["eu"]


def _description(rng: random.Random, name: str, tagline: str, features: list[str],
                 pricing: dict) -> str:
    lower = tagline[0].lower() + tagline[1:]
    paragraphs = [
        rng.choice(INTROS).format(app=name, tagline=tagline, lower_tagline=lower),
        "## What you get",
        "\n".join(f"- {feature}" for feature in features),
        "## How it works",
        rng.choice(HOW_IT_WORKS).format(app=name),
    ]
    if rng.random() < 0.6:
        paragraphs += ["## Getting started",
                       "\n".join(f"{n}. {step.format(app=name)}"
                                 for n, step in enumerate(STEPS, start=1))]
    if pricing["pricing_model"] == "usage":
        paragraphs.append(f"You pay only for what you use, per {pricing['unit_name']}; "
                          "usage is shown on your bill every month.")
    paragraphs.append(rng.choice(CLOSERS).format(customers=rng.randrange(200, 20000, 50)))
    return "\n\n".join(paragraphs)


def _between(rng: random.Random, start: datetime | None, end: datetime) -> datetime:
    start = start or end
    span = max((end - start).total_seconds(), 60.0)
    return start + timedelta(seconds=rng.uniform(0, span * 0.95))


def _colour(rng: random.Random) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.45, 0.75),
                                           rng.uniform(0.55, 0.8))
    return int(red * 255), int(green * 255), int(blue * 255)


def _caption(name: str, position: int) -> str:
    return [f"The {name} dashboard", f"Settings in {name}", f"{name} list view",
            f"Reports in {name}"][position % 4]


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow built without FreeType
        return ImageFont.load_default()


def screenshot_png(name: str, colour: tuple[int, int, int], layout: int = 0) -> bytes:
    """A 1280x800 mock of an app's screen: a header with ``name`` in ``colour``,
    a sidebar, and a dashboard, table or form body (by ``layout``).

    Drawn in a seven-colour palette so the PNG stays a few kilobytes.
    """
    light = tuple(min(255, c + 100) for c in colour)
    palette = [246, 247, 249, 255, 255, 255, *colour, 33, 37, 41, 222, 226, 230, 134, 142, 150,
               *light]
    background, white, accent, ink, line, muted, pale = range(7)
    image = Image.new("P", (1280, 800), background)
    image.putpalette(palette)
    draw = ImageDraw.Draw(image)
    title, small = _font(36), _font(18)
    draw.rectangle((0, 0, 1280, 64), fill=accent)
    draw.text((24, 12), name, fill=white, font=title)
    draw.rectangle((1180, 16, 1256, 48), fill=pale)
    draw.rectangle((0, 64, 240, 800), fill=white)
    for row in range(8):
        draw.rectangle((24, 96 + row * 48, 216, 120 + row * 48),
                       fill=pale if row == layout % 8 else line)
    kind = layout % 3
    seed = sum(map(ord, name)) + layout  # the same app always draws the same chart
    if kind == 0:  # dashboard: three cards and a bar chart
        for card in range(3):
            left = 272 + card * 330
            draw.rectangle((left, 96, left + 300, 236), fill=white, outline=line)
            draw.text((left + 20, 112), ["Active", "This week", "Trend"][card], fill=muted,
                      font=small)
            draw.text((left + 20, 150), str(20 + (seed * (card + 3)) % 900), fill=ink,
                      font=title)
        draw.rectangle((272, 268, 1250, 770), fill=white, outline=line)
        for bar in range(14):
            height = 60 + (bar * 37 + seed * 53) % 380
            draw.rectangle((310 + bar * 66, 740 - height, 350 + bar * 66, 740), fill=accent)
    elif kind == 1:  # table
        draw.rectangle((272, 96, 1250, 140), fill=white, outline=line)
        draw.text((290, 106), "Name            Owner            Status            Updated",
                  fill=muted, font=small)
        for row in range(12):
            top = 150 + row * 50
            draw.rectangle((272, top, 1250, top + 44), fill=white if row % 2 else background)
            draw.text((290, top + 12), f"Record {row + 1:02d}", fill=ink, font=small)
            draw.rectangle((900, top + 14, 980, top + 30), fill=pale if row % 3 else accent)
    else:  # settings form
        draw.text((272, 92), "Settings", fill=ink, font=title)
        for row in range(6):
            top = 160 + row * 90
            draw.text((272, top), ["Workspace", "Sync every", "Notify", "Owner", "Region",
                                   "Webhook"][row], fill=muted, font=small)
            draw.rectangle((272, top + 28, 900, top + 68), fill=white, outline=line)
        draw.rectangle((272, 720, 440, 764), fill=accent)
        draw.text((310, 730), "Save", fill=white, font=small)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

