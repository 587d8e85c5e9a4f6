"""Static reference values of the simulated clinic: names, locations, professions and lookup texts."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


BUSINESSES = (
    (
        "Harbourside Physio & Allied Health",
        "Harbourside",
        "12 Wharf St",
        "Sydney",
        "NSW",
        "2000",
        "08:00:00",
        "18:00:00",
    ),
    (
        "Northside Health Hub",
        "Northside",
        "88 Pacific Hwy",
        "Chatswood",
        "NSW",
        "2067",
        "09:00:00",
        "17:00:00",
    ),
    (
        "Westgate Rehab Clinic",
        "Westgate",
        "3/150 Church St",
        "Parramatta",
        "NSW",
        "2150",
        "07:30:00",
        "15:30:00",
    ),
)
PROFESSIONS = (
    ("Physiotherapy", "Physiotherapist", "PHY"),
    ("Podiatry", "Podiatrist", "POD"),
    ("Psychology", "Psychologist", "PSY"),
    ("Exercise Physiology", "Exercise Physiologist", "EXP"),
    ("Dietetics", "Dietitian", "DIE"),
)
FIRST_NAMES = _words(
    "Olivia Liam Charlotte Noah Amelia Jack Isla William Mia Oliver Ava Henry Grace Leo Chloe Thomas "
    "Zoe Lucas Ruby James Sophie Ethan Harper Lachlan Matilda Samuel Evie Joshua Lily Hamish Priya "
    "Arjun Mei Wei Aisha Omar Fatima Nguyen Hana Kenji Sofia Mateo Elena Luca Ngaio Tama Freya Finn"
)
SURNAMES = _words(
    "Smith Jones Williams Brown Wilson Taylor Johnson White Martin Anderson Thompson Nguyen Thomas "
    "Walker Harris Lee Ryan Robinson Kelly King Davis Wright Evans Roberts Green Hall Wood Jackson "
    "Clarke Patel Khan Singh Chen Wang Li Zhang O'Brien McDonald Murphy Campbell Stewart Mitchell "
    "Young Scott Baker Hughes"
)
RESOURCES = (
    "Treatment Room 1",
    "Treatment Room 2",
    "Gym",
    "Consult Room",
    "Ultrasound Unit",
    "Hydrotherapy Pool",
)
FEE_CATEGORIES = (
    ("Standard", True),
    ("Concession", True),
    ("DVA", True),
    ("Health Fund", True),
    ("Legacy", False),
)
STATUSES = (
    ("Booked", False),
    ("Confirmed", False),
    ("Arrived", False),
    ("Completed", False),
    ("Did Not Arrive", False),
    ("Waiting Room", True),
)
CANCEL_REASONS = ("Illness", "Work commitments", "Transport issues", "Feeling better", "Other")
RESCHEDULE_REASONS = ("Patient request", "Practitioner unavailable", "Clinic closure", "Other")
PRONOUNS = (
    ("He/Him", "he", "him", "his", "his", "himself"),
    ("She/Her", "she", "her", "hers", "her", "herself"),
    ("They/Them", "they", "them", "theirs", "their", "themself"),
    ("Ze/Hir", "ze", "hir", "hirs", "hir", "hirself"),
)
SEXES = ("Male", "Female", "Intersex", "Not stated")
TAG_CATEGORIES = ("Referral source", "Interests", "Funding", "Marketing")
#: (description suffix, short, minutes, item slot); item slot picks the profession's item.
TYPE_KINDS = (
    ("Initial Consultation", "Initial", 60, 0),
    ("Standard Consultation", "Standard", 30, 1),
    ("Review", "Review", 15, 2),
)
