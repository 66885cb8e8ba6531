# Mirrors the Makefile: install the package, migrate, serve with uvicorn.  The map page's
# front-end files (Leaflet included) are inside the package, so no npm step is needed.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 kring
WORKDIR /srv/kring
COPY . .
RUN pip install --no-cache-dir . && chown -R kring:kring /srv/kring \
    && cd / && python -c "from app.routers.map import VENDOR_DIR; assert (VENDOR_DIR / 'leaflet' / 'leaflet.js').is_file(), 'Leaflet missing from the installed package'" \
    && python -c 'import matching; matching.warm_kernels()'
USER kring
ENV KRING_DATABASE_URL=sqlite:////srv/kring/kring.db
EXPOSE 8000
CMD ["sh", "-c", "kring db upgrade && kring serve --host 0.0.0.0 --port 8000"]
