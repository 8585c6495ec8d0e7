/*
 * Call sites (schema version 4): named after the module that covers them
 * (xtio_analysis_add_module(), from LTTng-UST's bin_info and dlopen events of the same process)
 * as module+offset, and by function and source line when the module's symbols can be read (this
 * test's own executable, whose debug information the build keeps); hex without a module.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <unistd.h>

#include "test_events.h"

#define PID2  2000
#define CONN  ((1ull << 63) | 1)
#define BASE  0x7f0000000000ull
#define WRITE XTIO_SCHEMA_CALL_WRITE

static void off_loop_write_at(xtio_analysis *a, int64_t vpid, uint64_t site)
{
    ev_io_write(a, 1000, vpid, WORKER, CONN, 8, LOOP, true, WRITE, site);
}

static void a_site_in_a_module_is_named_module_and_offset(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    assert_int_equal(xtio_analysis_add_module(a, PID, BASE, 0x10000, "/nonexistent/libfake.so"), 0);
    assert_int_equal(xtio_analysis_add_module(a, PID, BASE + 0x20000, 0x1000, "/nonexistent/b.so"),
                     0);
    off_loop_write_at(a, PID, BASE + 0x1234);
    assert_int_equal(xtio_analysis_finish(a), 0);

    struct xtio_site_info info;
    assert_int_equal(xtio_analysis_site_info(a, PID, BASE + 0x1234, &info), 0);
    assert_string_equal(info.module, "/nonexistent/libfake.so");
    assert_int_equal(info.offset, 0x1234);
    assert_null(info.function); /* the file cannot be read */
    assert_null(info.file);
    assert_int_equal(xtio_analysis_site_info(a, PID, BASE + 0x20fff, &info), 0);
    assert_string_equal(info.module, "/nonexistent/b.so");
    assert_int_equal(info.offset, 0xfff);
    /* Between the modules, and past the last one. */
    assert_int_equal(xtio_analysis_site_info(a, PID, BASE + 0x10000, &info), 0);
    assert_null(info.module);
    assert_int_equal(xtio_analysis_site_info(a, PID, BASE + 0x21000, &info), 0);
    assert_null(info.module);

    char *text = report(a, XTIO_REPORT_TEXT);
    assert_non_null(strstr(text, "; write at libfake.so+0x1234\n"));
    free(text);
    char *json = report(a, XTIO_REPORT_JSON);
    assert_non_null(strstr(json,
                           "\"address\": \"0x7f0000001234\",\n                \"module\": "
                           "\"/nonexistent/libfake.so\",\n                \"offset\": 4660,"));
    free(json);
    xtio_analysis_destroy(a);
}

static void modules_belong_to_their_process(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    assert_int_equal(xtio_analysis_add_module(a, PID2, BASE, 0x10000, "/nonexistent/libfake.so"),
                     0);
    off_loop_write_at(a, PID, BASE + 0x1234);
    assert_int_equal(xtio_analysis_finish(a), 0);

    struct xtio_site_info info;
    assert_int_equal(xtio_analysis_site_info(a, PID, BASE + 0x1234, &info), 0);
    assert_null(info.module);
    char *text = report(a, XTIO_REPORT_TEXT);
    assert_non_null(strstr(text, "; write at 0x7f0000001234\n"));
    free(text);
    /* A process known only by its modules is not reported. */
    assert_int_equal(xtio_analysis_process_count(a), 1);
    xtio_analysis_destroy(a);
}

static void a_module_loaded_over_another_replaces_it(void **state)
{
    (void)state;
    xtio_analysis *a = new_analysis(false, false, false);
    assert_int_equal(xtio_analysis_add_module(a, PID, BASE, 0x10000, "/nonexistent/old.so"), 0);
    assert_int_equal(
        xtio_analysis_add_module(a, PID, BASE + 0x8000, 0x10000, "/nonexistent/new.so"), 0);
    assert_int_equal(xtio_analysis_add_module(a, PID, BASE, 0, "/nonexistent/empty.so"), -EINVAL);
    off_loop_write_at(a, PID, BASE + 0x100);
    assert_int_equal(xtio_analysis_finish(a), 0);
    struct xtio_site_info info;
    assert_int_equal(xtio_analysis_site_info(a, PID, BASE + 0x100, &info), 0);
    assert_null(info.module);
    assert_int_equal(xtio_analysis_site_info(a, PID, BASE + 0x8100, &info), 0);
    assert_string_equal(info.module, "/nonexistent/new.so");
    assert_int_equal(info.offset, 0x100);
    xtio_analysis_destroy(a);
}

/* ---- A module whose symbols can be read: this executable ---------------------------------- */

struct self_module {
    uint64_t baddr;
    uint64_t memsz;
};

/* As LTTng-UST's statedump gives a module: from its first PT_LOAD to the end of its last. */
static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct self_module *self = data;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        lo = ph->p_vaddr < lo ? ph->p_vaddr : lo;
        hi = ph->p_vaddr + ph->p_memsz > hi ? ph->p_vaddr + ph->p_memsz : hi;
    }
    self->baddr = info->dlpi_addr + lo;
    self->memsz = hi - lo;
    return 1; /* the first object is the executable */
}

/* The return address of its call: a site as xtio-preload records it. */
__attribute__((noinline, noclone)) static uint64_t return_address(void)
{
    uint64_t address = (uint64_t)(uintptr_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory"); /* not a tail call */
    return address;
}

static void a_site_in_a_module_with_symbols_gets_its_function_and_line(void **state)
{
    (void)state;
    struct self_module self = {0};
    char path[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", path, sizeof(path) - 1);
    assert_true(len > 0);
    path[len] = '\0';
    dl_iterate_phdr(find_self, &self);
    assert_true(self.memsz > 0);

    const int line = __LINE__ + 1; /* the call's, on the next line */
    uint64_t site = return_address();

    xtio_analysis *a = new_analysis(false, false, false);
    assert_int_equal(xtio_analysis_add_module(a, PID, self.baddr, self.memsz, path), 0);
    off_loop_write_at(a, PID, site);
    assert_int_equal(xtio_analysis_finish(a), 0);

    struct xtio_site_info info;
    assert_int_equal(xtio_analysis_site_info(a, PID, site, &info), 0);
    assert_string_equal(info.module, path);
    assert_int_equal(info.offset, site - self.baddr);
    assert_non_null(info.function);
    assert_string_equal(info.function, __func__);
    assert_true(info.function_offset > 0);
    assert_non_null(info.file);
    assert_non_null(strstr(info.file, "test_sites.c"));
    assert_int_equal(info.line, line);

    char expected[256];
    snprintf(expected, sizeof(expected), "+0x%" PRIx64 " (%s+0x%" PRIx64 ", test_sites.c:%d)\n",
             info.offset, __func__, info.function_offset, line);
    char *text = report(a, XTIO_REPORT_TEXT);
    assert_non_null(strstr(text, expected));
    free(text);
    char *json = report(a, XTIO_REPORT_JSON);
    snprintf(expected, sizeof(expected), "\"function\": \"%s\",", __func__);
    assert_non_null(strstr(json, expected));
    snprintf(expected, sizeof(expected), "\"line\": %d\n", line);
    assert_non_null(strstr(json, expected));
    free(json);
    xtio_analysis_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_site_in_a_module_is_named_module_and_offset),
        cmocka_unit_test(modules_belong_to_their_process),
        cmocka_unit_test(a_module_loaded_over_another_replaces_it),
        cmocka_unit_test(a_site_in_a_module_with_symbols_gets_its_function_and_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
