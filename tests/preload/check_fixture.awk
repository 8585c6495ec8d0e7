# Reads `babeltrace2` text output of a preload_fixture run under libxtio-preload.so and prints
# `got KEY VALUE` for every count the fixture's `expect` lines name (and for the ones they do
# not), so that run_fixture_test.sh can compare them. Keys:
#   loop_start, loop_stop, conn_open, conn_close, io_write, io_write.bytes
#   io_write.on_loop|off_loop|handover|before_loop[.CALL][.by.THREAD_NAME]: written by the owner
#       loop's thread; by another thread while the loop watched the socket; by another thread
#       after it stopped watching; while the connection's base had no loop thread (owner_tid 0)
#   loop_post.MECH, loop_run.MECH, EVENT.by.THREAD_NAME (from xtio:thread_name)
#   loop_run.without_post: runs with no post since the task's previous run
#   loop_post.unrun: posts never followed by a run of their task
#   io_write.unknown_conn: writes to a conn_id no conn_open announced
#   site.outside_fixture (alias site.outside_program): io_write and loop_post sites outside the
#       program binary's mapping (lttng_ust_statedump:bin_info of the same process); the program
#       is preload_fixture unless `-v program=NAME` says otherwise; a site in a sanitizer runtime
#       (libasan, libtsan: their interceptors call the shim's libc hooks) is neither, and counted
#       as site.in_sanitizer
#   thread_name.NAME: xtio:thread_name events naming a thread NAME
#   processes: processes (vpids) with xtio events; vtid.in_two_processes: thread ids seen in more
#       than one of them (a fork child's events that claim its parent's threads)
#   io_write.owner_not_loop: writes whose owner_tid is not 0 and not a thread that started a
#       loop in the same process
# mawk has no strtonum, and conn ids do not fit a double: ids stay strings, addresses (< 2^53)
# are converted by hand.

function val(key, s) {
    if (!match($0, "[ {]" key " = [^,} ]+"))
        return ""
    s = substr($0, RSTART + 1, RLENGTH - 1)
    sub("^" key " = ", "", s)
    return s
}
function str(key, s) {
    if (!match($0, "[ {]" key " = \"[^\"]*\""))
        return ""
    s = substr($0, RSTART + 1, RLENGTH - 1)
    sub("^[^\"]*\"", "", s)
    sub("\"$", "", s)
    return s
}
function label(key, s) {
    if (!match($0, "[ {]" key " = [(] \"[^\"]*\""))
        return ""
    s = substr($0, RSTART + 1, RLENGTH - 1)
    sub("^[^\"]*\"", "", s)
    sub("\"$", "", s)
    return s
}
function hex(s, n, i) {
    n = 0
    s = tolower(s)
    sub("^0x", "", s)
    for (i = 1; i <= length(s); i++)
        n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
    return n
}
function count(key) {
    got[key]++
}

{
    if (!match($0, / [a-z_]+:[a-z_]+: [{]/))
        next
    ev = substr($0, RSTART + 1, RLENGTH - 4)
    pid = val("vpid")
    tid = val("vtid")
    if (ev == "lttng_ust_statedump:bin_info") {
        if (str("path") ~ ("/" (program == "" ? "preload_fixture" : program) "$")) {
            lo[pid] = hex(val("baddr"))
            hi[pid] = lo[pid] + val("memsz")
        } else if (str("path") ~ /\/lib(asan|tsan)\.so[.0-9]*$/) {
            rlo[pid] = hex(val("baddr"))
            rhi[pid] = rlo[pid] + val("memsz")
        }
        next
    }
    if (ev !~ /^xtio:/)
        next
    ev = substr(ev, 6)
    if (!(pid in seen_pid)) {
        seen_pid[pid] = 1
        got["processes"]++
    }
    if (tid in tid_pid && tid_pid[tid] != pid && !((tid, "twice") in tid_pid)) {
        tid_pid[tid, "twice"] = 1
        got["vtid.in_two_processes"]++
    }
    tid_pid[tid] = pid
    if (ev == "thread_name") {
        name[tid] = str("name")
        count("thread_name." name[tid])
        next
    }
    n++
    E[n] = ev
    T[n] = tid
    P[n] = pid
    if (ev == "io_write") {
        C[n] = val("conn_id")
        B[n] = val("bytes")
        O[n] = val("owner_tid")
        W[n] = val("watched")
        L[n] = label("call")
        S[n] = val("site")
    } else if (ev == "loop_post" || ev == "loop_run") {
        K[n] = val("task") SUBSEP val("loop_id")
        L[n] = label("mech")
        S[n] = val("site")
    } else if (ev == "conn_open") {
        C[n] = val("conn_id")
    }
}

END {
    got["loop_run.without_post"] = got["loop_post.unrun"] = 0
    got["io_write.unknown_conn"] = got["site.outside_fixture"] = 0
    got["vtid.in_two_processes"] += 0
    got["io_write.owner_not_loop"] = 0
    for (i = 1; i <= n; i++)
        if (E[i] == "loop_start")
            looped[P[i], T[i]] = 1
    for (i = 1; i <= n; i++) {
        ev = E[i]
        count(ev)
        nm = (T[i] in name) ? name[T[i]] : "unnamed"
        count(ev ".by." nm)
        if (ev == "conn_open") {
            opened[C[i]] = 1
        } else if (ev == "io_write") {
            got["io_write.bytes"] += B[i]
            kind = O[i] == 0 ? "before_loop" : O[i] == T[i] ? "on_loop" : \
                W[i] == 1 ? "off_loop" : "handover"
            count("io_write." kind)
            count("io_write." kind "." L[i])
            count("io_write." kind ".by." nm)
            count("io_write." kind "." L[i] ".by." nm)
            if (O[i] != 0 && !((P[i], O[i]) in looped))
                count("io_write.owner_not_loop")
            if (!(C[i] in opened))
                count("io_write.unknown_conn")
        } else if (ev == "loop_post") {
            count("loop_post." L[i])
            pending[K[i]]++
        } else if (ev == "loop_run") {
            count("loop_run." L[i])
            if (!pending[K[i]])
                count("loop_run.without_post")
            pending[K[i]] = 0
        }
        if (ev == "io_write" || ev == "loop_post") {
            a = hex(S[i])
            if (P[i] in rlo && a >= rlo[P[i]] && a < rhi[P[i]])
                count("site.in_sanitizer")
            else if (!(P[i] in lo) || a < lo[P[i]] || a >= hi[P[i]])
                count("site.outside_fixture")
        }
    }
    for (k in pending)
        got["loop_post.unrun"] += pending[k]
    got["site.outside_program"] = got["site.outside_fixture"]
    for (k in got)
        print "got", k, got[k]
}
