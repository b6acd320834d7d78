"""The errors Verity's library code raises.

    VerityError
    ├── MediaError            the input cannot be analysed (CLI exit 2, HTTP 4xx)
    │   ├── MediaUnreadable   missing path, a directory, an I/O error while reading
    │   ├── UnsupportedMedia  readable, but not something Verity analyses
    │   │   └── NotAVideo     audio only, a still image, a document, ...
    │   ├── CorruptMedia      claims to be a video but does not decode
    │   ├── MediaTooLarge     over a configured limit (bytes, pixels, duration)
    │   └── DecodeTimeout     decoding took longer than the configured bound
    ├── ModelError            a classifier model is missing, damaged or inconsistent
    └── ConfigError           settings that cannot work

The CLI (service/cli.py) and the API map these to exit codes and HTTP statuses, each in one place.
"""


class VerityError(Exception):
    """Base of every error Verity raises on purpose."""


class MediaError(VerityError):
    """The input cannot be analysed; the message says why in one line."""


class MediaUnreadable(MediaError):
    pass


class UnsupportedMedia(MediaError):
    pass


class NotAVideo(UnsupportedMedia):
    pass


class CorruptMedia(MediaError):
    pass


class MediaTooLarge(MediaError):
    pass


class DecodeTimeout(MediaError):
    pass


class ModelError(VerityError):
    pass


class ConfigError(VerityError):
    pass
