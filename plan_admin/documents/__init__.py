"""The board's documents as PDF: rendered from the ledger (fpdf2), extended by incremental updates (pypdf), sealed
with the deployment's key (pyHanko), and kept with their SHA-256 in the "resolutions" storage.

- pdf.py      HTML from a Django template -> PDF bytes with the bundled DejaVu Serif fonts; the glyph check; the
              incremental append of a signature page
- seal.py     the deployment's seal: a PDF signature over the whole file, validated by `pyhanko sign validate`
- storage.py  writing and reading the files, with their hashes checked on every read

Why these libraries: fpdf2 and pypdf are pure Python and pyHanko needs only `cryptography` wheels, so `make run`
produces and seals PDFs on a fresh machine with no OS package (no Cairo, Pango or LibreOffice). The fonts ship in
plan_admin/documents/fonts (DejaVu, Bitstream Vera licence), so names outside Latin-1 print as written.
"""
