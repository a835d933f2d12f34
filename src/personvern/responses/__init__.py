"""Answers to data subject requests: the access report, the export, the receipt, the links.

The engine collects what a request found into
:class:`~personvern.domain.requests.collected.CollectedData` and calls
:func:`~personvern.responses.writer.write_request_outputs`, which writes the files the
subject downloads (an HTML and PDF report in their language, a zip with JSON, CSV and
the recordings themselves); :mod:`~personvern.responses.receipt` records what was
delivered with SHA-256 hashes, and :mod:`~personvern.responses.download_link` signs the
time-limited links the subject downloads them through.

Nothing is imported here: the download route needs only the link signing, and must not
pay for loading the PDF library on every start.
"""
