/*
 * Prints the facts of the `xtio` schema (tracepoints/xtio_schema.h), one a line, for the tests
 * that check a document against it (tests/man/man_page_test.sh):
 *   provider NAME | version N | event NAME | field EVENT NAME TYPE | label ENUM LABEL VALUE
 * where TYPE is uint8 ... int64, uint8[] ... int64[] for a sequence, or enum:ENUM for an
 * enumeration.
 */
#include <stdio.h>

#include "xtio_schema.h"

int main(void)
{
    printf("provider %s\nversion %d\n", XTIO_SCHEMA_PROVIDER, XTIO_SCHEMA_VERSION);
    for (int k = 0; k < XTIO_EVENT_KIND_COUNT; k++) {
        const struct xtio_schema_event *event = &xtio_schema_events[k];
        printf("event %s\n", event->name);
        for (int i = 0; i < XTIO_SCHEMA_MAX_FIELDS && event->fields[i] != XTIO_FIELD_NONE; i++) {
            const struct xtio_schema_field *field = &xtio_schema_fields[event->fields[i]];
            if (field->bits == 0)
                printf("field %s %s string\n", event->name, field->name);
            else if (field->enumeration != XTIO_SCHEMA_ENUM_NONE)
                printf("field %s %s enum:%s\n", event->name, field->name,
                       xtio_schema_enumerations[field->enumeration].name);
            else
                printf("field %s %s %sint%u%s\n", event->name, field->name,
                       field->is_signed ? "" : "u", field->bits, field->sequence ? "[]" : "");
        }
    }
    size_t enumerations = sizeof(xtio_schema_enumerations) / sizeof(xtio_schema_enumerations[0]);
    for (size_t e = 0; e < enumerations; e++) {
        const struct xtio_schema_enumeration *enumeration = &xtio_schema_enumerations[e];
        for (unsigned v = 0; v < enumeration->count; v++)
            printf("label %s %s %u\n", enumeration->name, enumeration->labels[v], v);
    }
    return ferror(stdout) ? 1 : 0;
}
