# The U.S.–Guatemala Asylum Cooperative Agreement (signed 2019-07-26, TIAS 19-1115) as enacted,
# with its implementing rule (84 FR 63994, 8 CFR 208.30(e)(7)) and the limits of the statute it
# rests on (INA 208(a)(2), 8 U.S.C. 1158(a)(2)), written by hand for regorus (OPA's Rego in Rust).
#
# Input: one case in the project's case format (`eligibility schema case`). Answer:
# data.aca.us_gt.status, one of not_in_force, not_applicable, excepted, applies (checked first to
# last, the first that holds wins); data.aca.us_gt.transfer_to_gt is true when it applies.
# Dates are exact ISO dates (YYYY-MM-DD), so comparing them as strings compares the days.
package aca.us_gt

import rego.v1

# Omitted fields take the case format's documented defaults.
decision_date := object.get(input, "decision_date", input.entry.date)

documents := object.get(input, "documents", "none")

fear_established_in := object.get(input, "fear_established_in", [])

# In force from 2019-11-15 (TIAS 19-1115, cover); suspended 2021-02-06 (U.S. Department of
# State, "Suspending and Terminating the Asylum Cooperative Agreements").
in_force if {
	decision_date >= "2019-11-15"
	decision_date < "2021-02-06"
}

# 84 FR 63994: the rule applies only to those who arrive or enter on or after 2019-11-19.
in_scope if input.entry.date >= "2019-11-19"

# Not for a national of Guatemala (ACA art. 2; INA 208(a)(2)(A): never to the country of one's
# nationality), dual nationals included.
excluded if "GT" in input.nationalities

# Nor for a stateless person whose habitual residence is Guatemala (ACA art. 2; INA 208(a)(2)(A)).
excluded if {
	count(input.nationalities) == 0
	input.habitual_residence == "GT"
}

# An unaccompanied alien child: under 18 on entry, no parent or guardian available
# (INA 208(a)(2)(E); 6 U.S.C. 279(g)(2)).
excepted if {
	input.age < 18
	input.unaccompanied == true
}

# A U.S. visa (not a transit visa) or admission document, or no U.S. visa needed (ACA, as
# reported by EFE).
excepted if documents in {"us_visa", "us_admission_document", "visa_waiver"}

# Persecution or torture in Guatemala established as more likely than not at the threshold
# screening (8 CFR 208.30(e)(7), 84 FR 63994).
excepted if "GT" in fear_established_in

# DHS finds it in the public interest that the person seek protection in the U.S.
# (INA 208(a)(2)(A)).
excepted if object.get(input, "public_interest", false) == true

status := "not_in_force" if {
	not in_force
} else := "not_applicable" if {
	not in_scope
} else := "not_applicable" if {
	excluded
} else := "excepted" if {
	excepted
} else := "applies"

transfer_to_gt := status == "applies"
