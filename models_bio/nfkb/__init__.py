"""NF-kB signalling models; their public constructors are listed once, in :mod:`models_bio`.

Modules::

    guo2024        Guo et al. 2024 macrophage model (52 species, five ligands): guo2024, dose_to_uM
    guo2024_table  its reaction and parameter tables, as data
    steady         phase 1 of its two-phase protocol: each cell's basal steady state
    noise          its noisy SDE variant in the END-nSDE paper's style: guo2024_sde
    krishna        the Krishna-Jensen-Sneppen 2006 minimal oscillator: krishna2006
"""
