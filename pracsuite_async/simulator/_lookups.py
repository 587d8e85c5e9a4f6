"""Reference data of the simulated clinic: locations, staff, services, items and lookups."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from pracsuite_async.simulator import _reference as ref
from pracsuite_async.simulator._data import TENANT_ID, Record, epoch_of_ordinal, fmt_timestamp

Tables = dict[str, dict[int, Record]]


def _stamp(rng: random.Random, day: int) -> str:
    return fmt_timestamp(epoch_of_ordinal(day) + rng.randrange(86_400), rng.randrange(1_000_000))


def _meta(rng: random.Random, base_day: int, archived: bool) -> dict[str, Any]:
    created = base_day - rng.randrange(200, 700)
    return {
        "_created": _stamp(rng, created),
        "_updated": _stamp(rng, created + rng.randrange(1, 150)),
        "_archived_at": _stamp(rng, created + 160) if archived else None,
    }


def build_reference(tables: Tables, rng: random.Random, records: int, today: date) -> None:
    """Fill the lookup and staff tables (everything that does not scale with ``records``... much)."""
    base = today.toordinal()
    _simple_lookups(tables, rng, base)
    for i, (name, display, street, suburb, state, postcode, start, end) in enumerate(ref.BUSINESSES, 1):
        bare = i == 3  # nullable fields are null here, as the Business schema allows
        tables["businesses"][i] = {
            "tenant_id": TENANT_ID,
            "business_id": i,
            "business_name": name,
            "display_name": display,
            "address_1": street,
            "address_2": None if bare else "Level 1",
            "address_3": None,
            "address_4": None,
            "suburb": suburb,
            "address_state": state,
            "postcode": postcode,
            "country": "Australia",
            "archive": None if bare else False,
            "phone": f"02 9{i}00 0{i}00",
            "fax": None if bare else f"02 9{i}00 0{i}01",
            "email": None if bare else f"reception{i}@example.com",
            "website": None if bare else f"https://clinic{i}.example.com",
            "appointment_start_time": start,
            "appointment_end_time": end,
            "registration_number": None if bare else f"ABN 11 000 000 00{i}",
            "registration_type": None if bare else "ABN",
            "short_description": display,
            "ndis_registration_number": None if bare else f"40500{i}",
            **_meta(rng, base, False),
        }
    for i, (desc, title, _code) in enumerate(ref.PROFESSIONS, 1):
        tables["professions"][i] = {
            "tenant_id": TENANT_ID,
            "profession_id": i,
            "description": desc,
            "default_title": title,
            "archived": False,
            **_meta(rng, base, False),
        }
    _items_and_types(tables, rng, base)
    _practitioners(tables, rng, records, base)


def _simple_lookups(tables: Tables, rng: random.Random, base: int) -> None:
    for i, desc in enumerate(ref.RESOURCES, 1):
        tables["resources"][i] = {
            "tenant_id": TENANT_ID,
            "resource_id": i,
            "description": desc,
            "resource_rank": i,
            "archived": i == 6,
        }
    for i, (desc, active) in enumerate(ref.FEE_CATEGORIES, 1):
        tables["fee_categories"][i] = {
            "tenant_id": TENANT_ID,
            "fee_cat_id": i,
            "description": desc,
            "active": active,
        }
    for i, (desc, archived) in enumerate(ref.STATUSES, 1):
        tables["appointment_statuses"][i] = {
            "tenant_id": TENANT_ID,
            "appointment_status_id": i,
            "status_description": desc,
            "archived": archived,
        }
    for i, reason in enumerate(ref.CANCEL_REASONS, 1):
        tables["cancellation_reasons"][i] = {
            "tenant_id": TENANT_ID,
            "appointment_cancellation_reason_id": i,
            "reason": reason,
        }
    for i, reason in enumerate(ref.RESCHEDULE_REASONS, 1):
        tables["reschedule_reasons"][i] = {
            "tenant_id": TENANT_ID,
            "appointment_reschedule_reason_id": i,
            "reason": reason,
        }
    for i, (desc, nom, obj, pos, det, reflexive) in enumerate(ref.PRONOUNS, 1):
        tables["pronouns"][i] = {
            "tenant_id": TENANT_ID,
            "pronoun_id": i,
            "description": desc,
            "nominative": nom,
            "objective": obj,
            "possessive": pos,
            "possessive_determiner": det,
            "reflexive": reflexive,
        }
    for i, desc in enumerate(ref.SEXES, 1):
        tables["sexes"][i] = {"tenant_id": TENANT_ID, "sex_id": i, "description": desc}
    for i, desc in enumerate(ref.TAG_CATEGORIES, 1):
        tables["tag_categories"][i] = {"tag_category_id": i, "tenant_id": TENANT_ID, "description": desc}


def _items_and_types(tables: Tables, rng: random.Random, base: int) -> None:
    items, groups, types = tables["items"], tables["item_groups"], tables["appointment_types"]
    fee_ids = [i for i, fc in tables["fee_categories"].items() if fc["active"]]

    def add_item(code: str, desc: str, price: float, gst: bool) -> int:
        item_id = len(items) + 1
        fees = [
            {
                "fee_cat_id": fc,
                "charge": round(price * (0.8 if fc == 2 else 1.0), 2),
                "discount": 10.0 if fc == 2 else 0.0,
            }
            for fc in fee_ids
        ]
        items[item_id] = {
            "tenant_id": TENANT_ID,
            "item_id": item_id,
            "item_code": code,
            "description": desc,
            "gst": gst,
            "archived": False,
            "print_code": code.replace("-", ""),
            "_detail": {"item_fees": fees},
            "_price": price,
        }
        return item_id

    type_id = 0
    for prof_id, (prof, _title, code) in enumerate(ref.PROFESSIONS, 1):
        item_ids = [
            add_item(f"{code}-{n}", f"{prof} {kind}", price, False)
            for n, (kind, price) in enumerate((("initial", 120.0), ("standard", 95.0), ("review", 60.0)), 1)
        ]
        groups[prof_id] = {
            "tenant_id": TENANT_ID,
            "item_group_id": prof_id,
            "description": f"{prof} services",
            "archived": False,
            "item_ids": item_ids,
        }
        for kind, short, minutes, slot in ref.TYPE_KINDS:
            type_id += 1
            durations = [_duration_row(prof_id, minutes, None)]
            if slot == 0:
                durations.append(_duration_row(prof_id, minutes + 15, 3))  # DVA initials run longer
            types[type_id] = _type_record(
                rng,
                base,
                type_id,
                f"{prof} {kind}",
                f"{code} {short}",
                prof_ids=(prof_id,),
                durations=durations,
                item_id=item_ids[slot],
                resource_ids=(1 + (type_id % 2),) if prof_id in (1, 4) else (),
            )
    misc = [add_item("MISC-1", "Theraband", 15.0, True), add_item("MISC-2", "Report writing", 150.0, False)]
    class_item = add_item("GRP-1", "Group class", 30.0, False)
    groups[len(groups) + 1] = {
        "tenant_id": TENANT_ID,
        "item_group_id": len(groups) + 1,
        "description": "Retail and admin",
        "archived": True,
        "item_ids": misc,
    }
    class_group = len(groups) + 1
    groups[class_group] = {
        "tenant_id": TENANT_ID,
        "item_group_id": class_group,
        "description": "Classes",
        "archived": False,
        "item_ids": [class_item],
    }
    extra = (
        ("Clinical Pilates Class", "Pilates", (1, 4), 60, True, 8, False, (3,)),
        ("Healthy Eating Group", "Nutrition Grp", (5,), 60, True, 12, False, (4,)),
        ("Telehealth Consultation", "Telehealth", (1, 2, 3, 4, 5), 30, False, 0, True, ()),
        ("Legacy Assessment", "Legacy", (1,), 45, False, 0, False, ()),
    )
    for desc, short, profs, minutes, group, size, tele, res in extra:
        type_id += 1
        rows = [_duration_row(p, minutes, None) for p in profs]
        types[type_id] = _type_record(
            rng,
            base,
            type_id,
            desc,
            short,
            prof_ids=profs,
            durations=rows,
            item_id=None if group else item_ids_for(items, profs[0]),
            item_group_id=class_group if group else None,
            resource_ids=res,
            group=group,
            size=size,
            telehealth=tele,
            archived=desc.startswith("Legacy"),
        )


def item_ids_for(items: dict[int, Record], profession_id: int) -> int:
    """The 'standard' item of a profession (items are laid out three per profession)."""
    return (profession_id - 1) * 3 + 2 if items else 0


def _duration_row(profession_id: int, minutes: int, fee_cat: int | None) -> Record:
    return {
        "profession_id": profession_id,
        "duration": minutes,
        "width": 1,
        "fee_cat_id": fee_cat,
        "all_fee_cats": True if fee_cat is None else None,
        "hourly_billing": False,
    }


def _type_record(
    rng: random.Random,
    base: int,
    type_id: int,
    desc: str,
    short: str,
    *,
    prof_ids: tuple[int, ...],
    durations: list[Record],
    item_id: int | None,
    resource_ids: tuple[int, ...],
    item_group_id: int | None = None,
    group: bool = False,
    size: int = 0,
    telehealth: bool = False,
    archived: bool = False,
) -> Record:
    return {
        "tenant_id": TENANT_ID,
        "appointment_type_id": type_id,
        "description": desc,
        "short_description": short,
        "archived": archived,
        "group_appointment": group,
        "group_max_size": size,
        "telehealth": telehealth,
        **_meta(rng, base, archived),
        "_profession_ids": prof_ids,
        "_resource_ids": resource_ids,
        "_item_id": item_id,
        "_item_group_id": item_group_id,
        "_detail": {"appointment_type_durations": durations, "practitioner_appointment_type_durations": []},
    }


def _practitioners(tables: Tables, rng: random.Random, records: int, base: int) -> None:
    count = max(10, records // 2500)
    pbs, pracs = tables["practitioner_businesses"], tables["practitioners"]
    profs = tables["professions"]
    for pid in range(1, count + 1):
        first, surname = (
            ref.FIRST_NAMES[(pid * 7) % len(ref.FIRST_NAMES)],
            ref.SURNAMES[(pid * 11) % len(ref.SURNAMES)],
        )
        prof_ids = [1 + (pid - 1) % len(ref.PROFESSIONS)]
        if pid % 4 == 0:
            prof_ids.append(1 + pid % len(ref.PROFESSIONS))
        business_ids = [1 + (pid - 1) % 3] + ([1 + pid % 3] if pid % 3 == 0 else [])
        archived = pid == count and count > 2
        links = []
        for bid in business_ids:
            pb_id = len(pbs) + 1
            columns = 1 + (pb_id % 3 == 0) + (pb_id % 7 == 0)
            pbs[pb_id] = {
                "practitioner_business_id": pb_id,
                "practitioner_id": pid,
                "business_id": bid,
                "app_book_columns": columns,
                "online": pb_id % 2 == 0,
                "waiting_list": pb_id % 3 == 0,
            }
            links.append(
                {
                    "archive": archived,
                    "business_id": bid,
                    "app_book_columns": columns,
                    "override_intervals": 15,
                    "practitioner_business_id": pb_id,
                }
            )
        title = profs[prof_ids[0]]["default_title"]
        created = base - rng.randrange(200, 900)
        pracs[pid] = {
            "tenant_id": TENANT_ID,
            "practitioner_id": pid,
            "title": "Dr" if prof_ids[0] == 3 else "",
            "first_name": first,
            "surname": surname,
            "short_description": f"{first} {surname}",
            "professional_title": title,
            "qualifications": "BSc (Hons)",
            "archive": archived,
            "email": f"{first}.{surname}@example.com".lower().replace("'", ""),
            "about_me": f"{first} is a {title.lower()} with {pid + 3} years of experience.",
            "telehealth_patient_link": f"https://telehealth.example.com/p/{pid}",
            "telehealth_practitioner_link": f"https://telehealth.example.com/host/{pid}",
            "created": _stamp(rng, created),
            "businesses": links,
            "professions": [
                {
                    "title": profs[p]["default_title"],
                    "is_default": n == 0,
                    "profession_id": p,
                    "qualifications": "BSc (Hons)",
                }
                for n, p in enumerate(prof_ids)
            ],
            "_updated": _stamp(rng, created + 30),
            "_archived_at": _stamp(rng, base - 30) if archived else None,
            "_profession_ids": tuple(prof_ids),
            "_business_ids": tuple(business_ids),
        }
    # A few practitioner-specific durations (practitioner_appointment_type_durations).
    for pid in range(1, 4):
        prac = pracs[pid]
        prof = prac["_profession_ids"][0]
        type_id = (prof - 1) * 3 + 2
        tables["appointment_types"][type_id]["_detail"]["practitioner_appointment_type_durations"].append(
            {
                "practitioner_id": pid,
                "business_id": prac["_business_ids"][0],
                "profession_id": prof,
                "duration": 40,
                "width": 1,
                "fee_cat_id": None,
                "all_fee_cats": True,
                "hourly_billing": False,
            }
        )
