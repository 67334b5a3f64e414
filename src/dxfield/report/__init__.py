"""The prefecture's report and tables in and out (CSV, XLSX), written from the field log."""
