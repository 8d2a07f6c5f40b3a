"""Builds _accel.c for the interpreter that runs this (python _build_accel.py <shim folder>), with
that interpreter's own compiler settings, into _accel<EXT_SUFFIX> beside it. The monitor runs
this once per interpreter as it prepares the shim (src-main/core/python-shim.ts); the shim works
without the result (at about a third of the speed on a lock). Exits 0 when the module was built
and imports, non-zero otherwise, saying why on stderr."""

import os
import shlex
import subprocess
import sys
import sysconfig


def main(folder):
    if sysconfig.get_config_var('Py_GIL_DISABLED'):
        # Its records rely on the GIL to keep an append and a take apart.
        sys.exit('free-threaded build: the Python recorder is used')
    suffix = sysconfig.get_config_var('EXT_SUFFIX') or '.so'
    src = os.path.join(folder, '_accel.c')
    dest = os.path.join(folder, '_accel' + suffix)
    tmp = '%s.tmp-%d' % (dest, os.getpid())
    ldshared = shlex.split(sysconfig.get_config_var('LDSHARED') or '')
    if not ldshared:
        sys.exit('no LDSHARED in this interpreter\'s build settings')
    # LDSHARED is "<cc> -shared ..." (-bundle -undefined dynamic_lookup on macOS): it compiles too.
    cmd = ldshared + shlex.split(sysconfig.get_config_var('CCSHARED') or '') + [
        '-O2',
        '-I' + sysconfig.get_paths()['include'],
        src,
        '-o',
        tmp,
    ]
    try:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
        os.replace(tmp, dest)
    except (OSError, subprocess.SubprocessError) as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        detail = getattr(e, 'stderr', b'') or b''
        sys.exit('cannot build the C recorder: %s %s' % (e, detail.decode('utf-8', 'replace')[-400:]))
    # Loaded by itself, not through the package: importing the shim would install it here.
    from importlib.machinery import ExtensionFileLoader
    from importlib.util import module_from_spec, spec_from_loader

    spec = spec_from_loader('procscope_shim._accel', ExtensionFileLoader('procscope_shim._accel', dest))
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    module.Records().append(1)


if __name__ == '__main__':
    main(os.path.abspath(sys.argv[1]))
