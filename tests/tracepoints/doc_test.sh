#!/usr/bin/env bash
# Checks docs/tracepoints.md against the schema (tracepoints/xtio_schema.h, through the facts
# that schema_facts prints): the schema version in its title, a section `### \`xtio:EVENT\`` per
# event whose table lists exactly the event's fields, in order, with their types, and a table per
# enumeration listing its labels with their values, in order. Every problem is printed; exit 1
# when there is any.
#
#   doc_test.sh SCHEMA_FACTS_PROGRAM DOC
set -euo pipefail

(($# == 2)) || {
    echo "usage: $(basename "$0") SCHEMA_FACTS_PROGRAM DOC" >&2
    exit 2
}
facts=$("$1")
doc=$2
problems=0
complain() {
    echo "doc_test: ${doc}: $*" >&2
    problems=$((problems + 1))
}

provider=$(awk '$1 == "provider" { print $2 }' <<<"$facts")
version=$(awk '$1 == "version" { print $2 }' <<<"$facts")
head -n 1 "$doc" | grep -qF "schema version ${version}" ||
    complain "its title does not say \"schema version ${version}\", as xtio_schema.h does"

# The rows "NAME TYPE" of the table in the section of an event, in order.
doc_fields() {
    awk -v heading="### \`${provider}:$1\`" '
        $0 == heading { inside = 1; next }
        inside && /^##/ { exit }
        inside && /^\| `[a-z_]+` \|/ {
            split($0, cell, "|"); name = cell[2]; type = cell[3]
            gsub(/[ `]/, "", name); gsub(/^ +| +$/, "", type)
            if (type ~ /^enum `[a-z_]+` \(int\)$/) { sub(/^enum `/, "enum:", type); sub(/` \(int\)$/, "", type) }
            print name, type }' "$doc"
}

# The rows "LABEL VALUE" of the table headed "| `ENUM` | value | meaning |".
doc_labels() {
    awk -v header="| \`$1\` | value | meaning |" '
        $0 == header { inside = 1; getline; next }
        inside && !/^\|/ { exit }
        inside { split($0, cell, "|"); label = cell[2]; value = cell[3]
                 gsub(/[ `]/, "", label); gsub(/ /, "", value); print label, value }' "$doc"
}

for event in $(awk '$1 == "event" { print $2 }' <<<"$facts"); do
    want=$(awk -v e="$event" '$1 == "field" && $2 == e { print $3, $4 }' <<<"$facts")
    have=$(doc_fields "$event")
    if [[ -z "$have" ]]; then
        complain "no section ### \`${provider}:${event}\` with a table of its fields"
    elif [[ "$have" != "$want" ]]; then
        complain "the fields of ${provider}:${event} differ from the schema's (NAME TYPE):" \
            $'\n  doc:   '"${have//$'\n'/, }"$'\n  schema: '"${want//$'\n'/, }"
    fi
done
for enumeration in $(awk '$1 == "label" { print $2 }' <<<"$facts" | uniq); do
    want=$(awk -v e="$enumeration" '$1 == "label" && $2 == e { print $3, $4 }' <<<"$facts")
    have=$(doc_labels "$enumeration")
    [[ "$have" == "$want" ]] ||
        complain "the labels of enumeration ${enumeration} differ from the schema's (LABEL VALUE):" \
            $'\n  doc:   '"${have//$'\n'/, }"$'\n  schema: '"${want//$'\n'/, }"
done
if ((problems > 0)); then
    echo "doc_test: ${doc}: ${problems} problem(s)" >&2
    exit 1
fi
echo "doc_test: ${doc}: OK"
