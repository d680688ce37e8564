"""berth: one library for every container runtime on a host.

    import berth
    with berth.connect("oci-archive:///path/to/image.tar") as rt:
        with rt.open_image("example.com/app:1") as image, image.filesystem() as fs:
            print(fs.read_text("/etc/os-release"))

Every class wraps a handle of libberth's C ABI (include/berth.h) and every method is one
call of it, made without the GIL. Objects close in `with` blocks, by close(), or when
they are collected. Failures raise berth.Error subclasses with the library's message.
"""

from ._errors import (
    AlreadyExistsError,
    AmbiguousError,
    CancelledError,
    ConflictError,
    CorruptError,
    Error,
    InternalError,
    InvalidArgumentError,
    InvalidHandleError,
    IoError,
    NotFoundError,
    NotSupportedError,
    NullArgumentError,
    PanicError,
    PermissionDeniedError,
    TimeoutError,
    UnavailableError,
)
from ._native import (
    Container,
    FileSystem,
    Image,
    Layer,
    Pod,
    Process,
    Runtime,
    Stream,
    abi_version,
    connect,
    detect,
    version,
)
from ._shapes import DirEntry, ExecResult, File, LogChunk, ProcessEvent, StatResult

__version__ = version()

__all__ = [
    "AlreadyExistsError",
    "AmbiguousError",
    "CancelledError",
    "ConflictError",
    "Container",
    "CorruptError",
    "DirEntry",
    "Error",
    "ExecResult",
    "File",
    "FileSystem",
    "Image",
    "InternalError",
    "InvalidArgumentError",
    "InvalidHandleError",
    "IoError",
    "Layer",
    "LogChunk",
    "NotFoundError",
    "NotSupportedError",
    "NullArgumentError",
    "PanicError",
    "PermissionDeniedError",
    "Pod",
    "Process",
    "ProcessEvent",
    "Runtime",
    "StatResult",
    "Stream",
    "TimeoutError",
    "UnavailableError",
    "__version__",
    "abi_version",
    "connect",
    "detect",
    "version",
]
