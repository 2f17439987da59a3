/* error.c -- mlf_strerror(): text for the SDK's reserved error range and for errno values. */
#include <mlflowd/mlflowd.h>
#include <string.h>

const char *mlf_strerror(int err)
{
    switch (err) {
    case MLF_OK: return "success";
    case MLF_EINVAL: return "invalid argument";
    case MLF_ENOMEM: return "out of memory";
    case MLF_ENOTFOUND: return "not found";
    case MLF_EEXIST: return "already exists";
    case MLF_ETYPE: return "wrong value type";
    case MLF_ERANGE: return "out of range";
    case MLF_ETOOBIG: return "value exceeds the size limit";
    case MLF_EPARSE: return "malformed input";
    case MLF_EABI: return "plugin ABI mismatch";
    case MLF_ENOTSUP: return "not supported";
    case MLF_ESTATE: return "invalid in the current state";
    case MLF_EIO: return "input/output error";
    case MLF_ETIMEDOUT: return "timed out";
    case MLF_ECORRUPT: return "stored data is corrupt or of an incompatible schema";
    case MLF_EPLUGIN: return "plugin failure";
    default: break;
    }
    if (err > 0)
        return strerror(err); /* glibc returns a static "Unknown error N" buffer for unknown codes */
    return "unknown error";
}
