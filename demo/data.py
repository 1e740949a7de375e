"""The demo catalog's content: users, reviewers, categories, partners, apps and the
texts their descriptions, changelogs, reviews and replies are drawn from.
``demo.catalog`` builds the catalog from it."""

from __future__ import annotations

from accounts.models import Role
from listings.models import PartnerTier

DEMO_PASSWORD = "bazaar-demo-2026"
# A Northwind Labs app (the demo partner's) sold at $29 a month without a trial.
DEMO_PAID_APP = "Payline Commissions"
# Its price plans (listings/plans.py), in USD cents: cards say "From" the cheapest monthly one.
DEMO_PAID_PLANS = [
    {"name": "Basic", "interval": "month", "price": 2900},
    {"name": "Basic", "interval": "year", "price": 29000},
    {"name": "Pro", "interval": "month", "price": 7900},
]
DEMO_SEED = 2026
DEMO_USERS = [
    ("customer@example.com", Role.CUSTOMER.value),
    ("partner@example.com", Role.PARTNER.value),
    ("editor@example.com", Role.EDITOR.value),
    ("admin@example.com", Role.ADMIN.value),
]
DEMO_NAMES = {
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
    "With **{app}**, {lower_tagline} No scripts to write and nothing to maintain.",
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
