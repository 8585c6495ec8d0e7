#!/usr/bin/env bash
# Checks that a man page of xtio says what it documents, and that groff renders it cleanly.
#
#   man_page_test.sh cli PAGE PROGRAM
#       The long options of `PROGRAM --help` (its option lines: "  -x, --name ...") are exactly
#       the \-\-name options of the page's OPTIONS section.
#   man_page_test.sh provider PAGE HEADER
#       The page names the schema version of the LTTng-UST provider HEADER, and has a subsection
#       per event (.SS "PROVIDER:EVENT") naming each of its fields in bold, and one per enum
#       (.SS "ENUM") naming each label in bold with its value.
#   man_page_test.sh preload PAGE LIBRARY
#       The functions the page's INTERPOSED CALLS section names in bold are exactly the functions
#       that LIBRARY (libxtio-preload.so) defines and exports: what it interposes.
#
# All also check `.TH NAME SECTION` against the page's file name, that no option is written with
# plain hyphens (--name renders as hyphens, which a copy-paste does not take), and, when man is
# installed, that `man --warnings` prints no warning: groff warnings are bugs of the page.
# Every problem is printed; the exit status is 1 when there is any.
set -euo pipefail

problems=0
page=""

complain() {
    echo "man_page_test: ${page}: $*" >&2
    problems=$((problems + 1))
}

# Roff's escaped hyphen back to a plain one.
unescape_hyphens() {
    sed 's/\\-/-/g'
}

# The body of the section titled $2 (.SH when $1 is SH, .SS when SS): up to the next heading of
# the same level or higher. Titles may be quoted.
section_body() {
    awk -v level="$1" -v title="$2" '
        function heading(line) { sub(/^\.S[HS][ \t]+/, "", line); gsub(/"/, "", line); return line }
        /^\.SH/ || (level == "SS" && /^\.SS/) { inside = 0 }
        $0 ~ "^\\." level "[ \t]" && heading($0) == title { inside = 1; next }
        inside { print }
    ' "$page"
}

check_title() {
    local file name section th_name th_section
    file=$(basename "$page")
    name=${file%.*}
    section=${file##*.}
    read -r th_name th_section < <(awk '/^\.TH[ \t]/ { gsub(/"/, ""); print $2, $3; exit }' \
        "$page" | unescape_hyphens) || true
    if [[ -z "${th_name:-}" ]]; then
        complain "no .TH line: the page must start with .TH \"${name^^}\" \"${section}\" ..."
    elif [[ "${th_name^^}" != "${name^^}" || "${th_section:-}" != "$section" ]]; then
        complain ".TH names ${th_name} ${th_section:-?}, but the file is ${file}: expected" \
            ".TH \"${name^^}\" \"${section}\""
    fi
}

check_no_plain_hyphen_options() {
    local plain
    plain=$(grep -v '^[.'"'"']\\"' "$page" | sed 's/\\-/#/g' |
        { grep -oE -- '--[[:alnum:]][[:alnum:]-]*' || true; } | sort -u | tr '\n' ' ')
    if [[ -n "$plain" ]]; then
        complain "options written with plain hyphens (write \\-\\- so they render as minus signs): ${plain}"
    fi
}

check_rendering() {
    if ! command -v man >/dev/null; then
        echo "man_page_test: man is not installed: rendering of ${page} not checked"
        return
    fi
    local warnings
    # A fixed locale: the check must not depend on the caller's, nor warn about it.
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || {
        complain "man cannot render the page: ${warnings}"
        return
    }
    if [[ -n "$warnings" ]]; then
        complain "groff warns while rendering it:"$'\n'"${warnings}"
    fi
}

# Prints each long option of a --help text once, sorted: the first --name of each option line.
help_options() {
    { grep -E '^[[:space:]]+(-[[:alnum:]]([ =][^ ,]+)?, )?--[[:alnum:]]' || true; } |
        sed -E 's/^[[:space:]]+(-[[:alnum:]]([ =][^ ,]+)?, )?(--[[:alnum:]][[:alnum:]-]*).*/\3/' |
        sort -u
}

page_options() {
    section_body SH OPTIONS | { grep -oE -- '\\-\\-[[:alnum:]]([[:alnum:]]|\\-)*' || true; } |
        unescape_hyphens | sort -u
}

check_cli() {
    local program=$1 help in_help in_page missing extra required
    if ! help=$("$program" --help); then
        complain "\`${program} --help\` failed: every xtio CLI must print its help and exit 0"
        return
    fi
    in_help=$(help_options <<<"$help")
    in_page=$(page_options)
    if [[ -z "$in_help" ]]; then
        complain "found no option line (\"  -x, --name ...\") in \`${program} --help\`"
    fi
    if [[ -z "$in_page" ]]; then
        complain "found no \\-\\-name in its OPTIONS section (.SH \"OPTIONS\")"
    fi
    for required in --help --version; do
        grep -qxF -- "$required" <<<"$in_help" ||
            complain "\`${program} --help\` lacks ${required}: every xtio CLI has it"
    done
    missing=$(comm -23 <(echo "$in_help") <(echo "$in_page") | tr '\n' ' ')
    extra=$(comm -13 <(echo "$in_help") <(echo "$in_page") | tr '\n' ' ')
    if [[ -n "${missing// /}" ]]; then
        complain "options of \`$(basename "$program") --help\` missing from its OPTIONS" \
            "section: ${missing}"
    fi
    if [[ -n "${extra// /}" ]]; then
        complain "options in its OPTIONS section that \`$(basename "$program") --help\`" \
            "does not list: ${extra}"
    fi
}

check_provider() {
    local facts_program=$1 header=tracepoints/xtio_schema.h facts provider version events=0 kind a b c body
    if ! facts=$("$facts_program"); then
        complain "${facts_program} could not print the facts of ${header}"
        return
    fi
    provider=$(awk '$1 == "provider" { print $2 }' <<<"$facts")
    version=$(awk '$1 == "version" { print $2 }' <<<"$facts")
    if [[ -z "$provider" || -z "$version" ]]; then
        complain "cannot find the provider name and the schema version in ${header}"
        return
    fi
    if ! grep -qF "(schema version ${version})" <(section_body SH NAME); then
        complain "its NAME line does not say \"(schema version ${version})\", as ${header} does"
    fi
    while read -r kind a b c; do
        case $kind in
        event)
            events=$((events + 1))
            [[ -n "$(section_body SS "${provider}:${a}")" ]] ||
                complain "event ${provider}:${a} of ${header} has no .SS \"${provider}:${a}\""
            ;;
        field)
            body=$(section_body SS "${provider}:${a}")
            [[ -z "$body" ]] || grep -qF "\\fB${b}\\fR" <<<"$body" ||
                complain "field ${b} of ${provider}:${a} is not named (in bold) in its subsection"
            ;;
        label)
            body=$(section_body SS "$a")
            grep -qF "\\fB${b}\\fR (${c})" <<<"$body" ||
                complain "enum ${a}: label ${b} = ${c} is not in a .SS \"${a}\" as \\fB${b}\\fR (${c})"
            ;;
        esac
    done <<<"$facts"
    if ((events == 0)); then
        complain "found no event in ${header}"
    fi
}

check_preload() {
    local library=$1 exported documented missing extra
    exported=$(nm -D --defined-only "$library" | awk '$2 == "T" { print $3 }' | sort -u)
    documented=$(section_body SH "INTERPOSED CALLS" | unescape_hyphens |
        grep -oE '\\fB[a-z_0-9]+\\fR' | sed 's/^\\fB//; s/\\fR$//' | sort -u)
    if [[ -z "$exported" ]]; then
        complain "${library} exports no function"
    fi
    missing=$(comm -23 <(echo "$exported") <(echo "$documented") | tr '\n' ' ')
    extra=$(comm -13 <(echo "$exported") <(echo "$documented") | tr '\n' ' ')
    [[ -z "${missing// /}" ]] ||
        complain "INTERPOSED CALLS does not name what $(basename "$library") interposes: ${missing}"
    [[ -z "${extra// /}" ]] ||
        complain "INTERPOSED CALLS names what $(basename "$library") does not interpose: ${extra}"
}

usage() {
    echo "usage: $(basename "$0") cli PAGE PROGRAM | provider PAGE SCHEMA_FACTS_PROGRAM |" \
        "preload PAGE LIBRARY" >&2
    exit 2
}

(($# == 3)) || usage
page=$2
if [[ ! -r "$page" ]]; then
    echo "man_page_test: cannot read ${page}: write the page (see man/ for the others)" >&2
    exit 1
fi
case $1 in
cli) check_cli "$3" ;;
provider) check_provider "$3" ;;
preload) check_preload "$3" ;;
*) usage ;;
esac
check_title
check_no_plain_hyphen_options
check_rendering
if ((problems > 0)); then
    echo "man_page_test: ${page}: ${problems} problem(s)" >&2
    exit 1
fi
echo "man_page_test: ${page}: OK"
