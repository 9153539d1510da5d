"""Prompt Workbench core: everything the pages, the REST API and scripts share.

This package never imports streamlit.
"""

__version__ = "0.1.0"
