/*
 * Call sites of schema version 4 (io_write's and loop_post's `site`): the modules each process
 * loaded (xtio_analysis_add_module()), and, for the sites that a report gives, their function
 * and source line read with elfutils' libdwfl from the module's file and its debug information.
 * Only reported sites are looked up, once each at finish, never per event.
 */
#include "internal.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Modules ----------------------------------------------------------------------------- */

static void free_modules(struct modules *modules)
{
    for (size_t i = 0; i < modules->len; i++)
        free(modules->items[i].path);
    free(modules->items);
    free(modules);
}

int xtio__add_module(xtio_analysis *analysis, int64_t vpid, uint64_t baddr, uint64_t memsz,
                     const char *path)
{
    if (memsz == 0 || baddr + memsz < baddr)
        return -EINVAL;
    struct modules *modules = xtio__map_get(&analysis->modules, vpid, 0);
    if (!modules) {
        modules = calloc(1, sizeof(*modules));
        if (!modules)
            return -ENOMEM;
        int status = xtio__map_put(&analysis->modules, vpid, 0, modules);
        if (status) {
            free(modules);
            return status;
        }
    }
    char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    if (modules->len == modules->cap) {
        size_t cap = modules->cap ? modules->cap * 2 : 16;
        struct module *items = realloc(modules->items, cap * sizeof(*items));
        if (!items) {
            free(copy);
            return -ENOMEM;
        }
        modules->items = items;
        modules->cap = cap;
    }
    /* A module loaded over the addresses of earlier ones (after a dlclose) replaces them. A
     * statedump repeats the modules of a process: the same module again changes nothing. */
    uint64_t end = baddr + memsz;
    size_t kept = 0;
    for (size_t i = 0; i < modules->len; i++) {
        struct module *m = &modules->items[i];
        if (m->baddr < end && baddr < m->baddr + m->memsz) {
            free(m->path);
            continue;
        }
        modules->items[kept++] = *m;
    }
    size_t at = kept;
    while (at > 0 && modules->items[at - 1].baddr > baddr) {
        modules->items[at] = modules->items[at - 1];
        at--;
    }
    modules->items[at] = (struct module){baddr, memsz, copy};
    modules->len = kept + 1;
    return 0;
}

const struct module *xtio__module_of(const xtio_analysis *analysis, int64_t vpid, uint64_t address)
{
    const struct modules *modules = xtio__map_get(&analysis->modules, vpid, 0);
    if (!modules)
        return NULL;
    size_t lo = 0, hi = modules->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (modules->items[mid].baddr <= address)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct module *m = &modules->items[lo - 1];
    return address - m->baddr < m->memsz ? m : NULL;
}

/* ---- Naming the reported sites ----------------------------------------------------------- */

static void free_site(struct site *site)
{
    free(site->function);
    free(site->file);
    free(site);
}

/* The function and line of `address` (a return address: the call is the byte before it), from
 * the module's file placed at its load address. Leaves them unknown when libdwfl cannot read
 * them (the file is gone, stripped without debug information, or not an ELF file). */
static int look_up(Dwfl *dwfl, const struct module *module, uint64_t address, struct site *site)
{
    /* Reported on first use: most modules of a process hold no reported site. */
    Dwfl_Module *mod = dwfl_addrmodule(dwfl, module->baddr);
    if (!mod) {
        dwfl_report_begin_add(dwfl);
        mod = dwfl_report_elf(dwfl, module->path, module->path, -1, module->baddr, false);
        dwfl_report_end(dwfl, NULL, NULL);
    }
    if (!mod)
        return 0;
    GElf_Addr call = address > module->baddr ? address - 1 : address;
    GElf_Off offset = 0;
    GElf_Sym sym;
    const char *function = dwfl_module_addrinfo(mod, call, &offset, &sym, NULL, NULL, NULL);
    if (function) {
        site->function = strdup(function);
        if (!site->function)
            return -ENOMEM;
        /* From the function's start to the site as the trace gives it. */
        site->function_offset = offset + (address - call);
    }
    Dwfl_Line *line = dwfl_module_getsrc(mod, call);
    int lineno = 0;
    const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    if (file) {
        site->file = strdup(file);
        if (!site->file)
            return -ENOMEM;
        site->line = lineno;
    }
    return 0;
}

/* Names one site of a process, unless it is named already. */
static int name_site(xtio_analysis *analysis, Dwfl **dwfl, int64_t vpid, uint64_t address)
{
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_build_id_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
    };
    if (address == 0 || xtio__map_get(&analysis->sites, vpid, address))
        return 0;
    const struct module *module = xtio__module_of(analysis, vpid, address);
    if (!module)
        return 0;
    struct site *site = calloc(1, sizeof(*site));
    if (!site)
        return -ENOMEM;
    site->module = module;
    int status = xtio__map_put(&analysis->sites, vpid, address, site);
    if (status) {
        free_site(site);
        return status;
    }
    if (!*dwfl)
        *dwfl = dwfl_begin(&callbacks);
    return *dwfl ? look_up(*dwfl, module, address, site) : 0;
}

int xtio__name_sites(xtio_analysis *analysis)
{
    int status = 0;
    for (size_t i = 0; i < analysis->processes.cap && status == 0; i++) {
        const struct process *process = analysis->processes.slots[i].value;
        if (!process || !xtio__map_get(&analysis->modules, process->vpid, 0))
            continue;
        Dwfl *dwfl = NULL; /* one per process: each has its own address space */
        const struct finding *finding = &process->findings[XTIO_FINDING_OFF_LOOP_WRITE];
        for (unsigned s = 0; s < finding->nsamples && status == 0; s++) {
            if (finding->samples[s].event == XTIO_EVENT_IO_WRITE)
                status = name_site(analysis, &dwfl, process->vpid, finding->samples[s].site);
        }
        for (size_t h = 0; h < analysis->handovers.cap && status == 0; h++) {
            if (analysis->handovers.slots[h].vpid != process->vpid)
                continue;
            for (const struct handover *ho = analysis->handovers.slots[h].value; ho && !status;
                 ho = ho->next)
                status = name_site(analysis, &dwfl, process->vpid, ho->site);
        }
        if (dwfl)
            dwfl_end(dwfl);
    }
    return status;
}

const struct site *xtio__site(const xtio_analysis *analysis, int64_t vpid, uint64_t address)
{
    return xtio__map_get(&analysis->sites, vpid, address);
}

void xtio__free_sites(xtio_analysis *analysis)
{
    for (size_t i = 0; i < analysis->sites.cap; i++) {
        if (analysis->sites.slots[i].value)
            free_site(analysis->sites.slots[i].value);
    }
    xtio__map_fini(&analysis->sites);
    for (size_t i = 0; i < analysis->modules.cap; i++) {
        if (analysis->modules.slots[i].value)
            free_modules(analysis->modules.slots[i].value);
    }
    xtio__map_fini(&analysis->modules);
}

/* ---- Giving a site ----------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

void xtio__format_site(const xtio_analysis *analysis, int64_t vpid, uint64_t address, char *buf,
                       size_t size)
{
    if (address == 0) {
        snprintf(buf, size, "unknown");
        return;
    }
    const struct module *module = xtio__module_of(analysis, vpid, address);
    if (!module) {
        snprintf(buf, size, "0x%" PRIx64, address);
        return;
    }
    int n = snprintf(buf, size, "%s+0x%" PRIx64, base_name(module->path), address - module->baddr);
    const struct site *site = xtio__site(analysis, vpid, address);
    if (n < 0 || (size_t)n >= size || !site || (!site->function && !site->file))
        return;
    size -= (size_t)n;
    buf += n;
    if (site->function && site->file)
        snprintf(buf, size, " (%s+0x%" PRIx64 ", %s:%d)", site->function, site->function_offset,
                 base_name(site->file), site->line);
    else if (site->function)
        snprintf(buf, size, " (%s+0x%" PRIx64 ")", site->function, site->function_offset);
    else
        snprintf(buf, size, " (%s:%d)", base_name(site->file), site->line);
}

int xtio_analysis_site_info(const xtio_analysis *analysis, int64_t vpid, uint64_t site,
                            struct xtio_site_info *info)
{
    if (!analysis || !info)
        return -EINVAL;
    *info = (struct xtio_site_info){0};
    const struct module *module = xtio__module_of(analysis, vpid, site);
    if (!module)
        return 0;
    info->module = module->path;
    info->offset = site - module->baddr;
    const struct site *named = xtio__site(analysis, vpid, site);
    if (named) {
        info->function = named->function;
        info->function_offset = named->function_offset;
        info->file = named->file;
        info->line = named->line;
    }
    return 0;
}
