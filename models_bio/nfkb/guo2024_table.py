"""Guo et al. 2024 macrophage NF-kB model: the reaction and parameter tables as data.

Transcribed from the ODE source (``lib/nfkbOde.m`` of ``Xiaolu-Guo/NFkB_single_cell_modeling``,
commit d30e4eb, MIT licence), as tabulated in the project's implementation reference. Where the
spreadsheets shipped with the source disagree with the ODE (p46/p47 swapped, the #70 volume
scale, unit labels), the ODE wins. Units: uM and min.

Reaction rows read ``number | reactants -> products | rate law | meaning``. A coefficient
written before a species is a *volume-scale factor* (a parameter name such as ``p9n2``), not an
integer stoichiometry; ``0`` is the empty complex. Species that appear in a rate law but not in
the reaction are modifiers. Reaction #7 of the source (``p7*IkBat``) enters no equation; only its
parameter is kept. Parameter rows read ``name | value | units | meaning`` (``-`` dimensionless).
"""

from __future__ import annotations

# State-vector order of the source (1-based index in the source = position + 1).
SPECIES: tuple[str, ...] = (
    "stim", "IkBa", "IkBan", "IkBaNFkB", "IkBaNFkBn", "IkBat", "IKKIkBaNFkB", "IKKIkBa",
    "NFkB", "NFkBn", "IKK_off", "IKK", "IKK_i", "LPS", "CD14", "CD14LPS", "CD14LPSen",
    "TLR4", "TLR4en", "TLR4LPS", "TLR4LPSen", "MyD88_off", "MyD88", "TRIF_off", "TRIF",
    "TRAF6_off", "TRAF6", "TNF", "TNFR", "TNFR_TNF", "TTR", "C1_off", "C1", "TAK1_off",
    "TAK1", "Pam3CSK", "TLR2", "CD14_P3CSK", "TLR2_P3CSK", "polyIC", "polyIC_en", "TLR3",
    "TLR3_polyIC", "CpG", "CpG_en", "TLR9", "TLR9_CpG", "TLR9_N", "IkBat_cas1",
    "IkBat_cas2", "NFkBn_cas1", "NFkBn_cas2",
)  # fmt: skip

# Initial totals before phase 1 (uM); every other species starts at 0. NF-kB's total is the
# parameter ``NFkB_total`` so that it can vary from cell to cell.
INITIAL_TOTALS: dict[str, float | str] = {
    "NFkB": "NFkB_total",
    "IKK_off": 0.08,
    "MyD88_off": 0.1,
    "TRIF_off": 0.1,
    "TRAF6_off": 0.1,
    "TAK1_off": 0.1,
    "TTR": 0.035,
}
NFKB_TOTAL = ("NFkB_total", 0.08, "uM", "initial total NF-kB (all in cytoplasmic NFkB)")

_REACTIONS = """
1 | IKK_off -> IKK | p1*stim*IKK_off | IKK activation by generic `stim` (modifier; stim has zero derivative)
2 | IKK_off -> IKK | p2*IKK_off | basal IKK activation
3 | IKK -> IKK_i | p3*IKK | IKK inactivation (IKK cycling)
4 | IKK_i -> IKK_off | p4*IKK_i | IKK recovery (IKK cycling)
5 | 0 -> IkBat | p5 | basal IkBa transcription (zero order)
6 | 0 -> IkBat | p6*hill(NFkBn_cas2, p6n2, p6n3) | NF-kB-induced IkBa transcription, driven by delayed NFkBn_cas2 (modifier)
8 | 0 -> IkBa | p8*IkBat_cas2 | IkBa translation from delayed transcript IkBat_cas2 (modifier, not consumed)
9 | IkBa -> p9n2 IkBan | p9*IkBa | IkBa nuclear import
10 | NFkB -> p10n2 NFkBn | p10*NFkB | NF-kB nuclear import
11 | IkBan -> p11n2 IkBa | p11*IkBan | IkBa nuclear export
12 | NFkBn -> p12n2 NFkB | p12*NFkBn | NF-kB nuclear export
13 | IkBaNFkB -> p13n2 IkBaNFkBn | p13*IkBaNFkB | IkBa:NF-kB import (switched off)
14 | IkBaNFkBn -> p14n2 IkBaNFkB | p14*IkBaNFkBn | IkBa:NF-kB export
15 | IkBa -> 0 | p15*IkBa | free IkBa degradation (cyto)
16 | IkBan -> 0 | p16*IkBan | free IkBa degradation (nuc)
17 | IkBa + NFkB -> IkBaNFkB | p17*IkBa*NFkB | IkBa–NF-kB association (cyto)
18 | IkBan + NFkBn -> IkBaNFkBn | p18*IkBan*NFkBn | IkBa–NF-kB association (nuc)
19 | IkBaNFkB -> IkBa + NFkB | p19*IkBaNFkB | IkBa:NF-kB dissociation (cyto)
20 | IkBaNFkBn -> IkBan + NFkBn | p20*IkBaNFkBn | IkBa:NF-kB dissociation (nuc)
21 | IkBaNFkB + IKK -> IKKIkBaNFkB | p21*IKK*IkBaNFkB | IKK binds IkBa:NF-kB
22 | IkBa + IKK -> IKKIkBa | p22*IKK*IkBa | IKK binds free IkBa
23 | IKKIkBaNFkB -> IkBaNFkB + IKK | p23*IKKIkBaNFkB | IKK:IkBa:NF-kB dissociation
24 | IKKIkBa -> IkBa + IKK | p24*IKKIkBa | IKK:IkBa dissociation
25 | IKKIkBaNFkB -> NFkB + IKK | p25*IKKIkBaNFkB | IKK-mediated IkBa degradation in complex, frees NF-kB
26 | IKKIkBa -> IKK | p26*IKKIkBa | IKK-mediated degradation of free IkBa
27 | p27n2 LPS + CD14 -> CD14LPS | p27*LPS*CD14 | LPS capture by CD14 (medium LPS consumed x0.001)
28 | CD14LPS -> p28n2 LPS + CD14 | p28*CD14LPS | CD14:LPS dissociation (LPS returned x0.001)
29 | 0 -> CD14 | p29 | CD14 synthesis
30 | CD14 -> 0 | p30*CD14 | CD14 degradation
31 | CD14LPS + TLR4 -> TLR4LPS | p31*CD14LPS*TLR4 | TLR4 binds CD14:LPS (membrane)
32 | TLR4LPS -> CD14LPS + TLR4 | p32*TLR4LPS | TLR4:LPS dissociation (membrane)
33 | CD14LPSen + TLR4en -> TLR4LPSen | p33*CD14LPSen*TLR4en | TLR4 binds CD14:LPS (endosome)
34 | TLR4LPSen -> CD14LPSen + TLR4en | p34*TLR4LPSen | TLR4:LPS dissociation (endosome)
35 | 0 -> TLR4 | p35 | TLR4 synthesis
36 | CD14LPS -> CD14LPSen | p36*CD14LPS | CD14:LPS endocytosis
37 | CD14LPSen -> CD14LPS | p37*CD14LPSen | CD14:LPS recycling
38 | TLR4 -> TLR4en | p38*TLR4 | constitutive TLR4 endocytosis
39 | TLR4en -> TLR4 | p39*TLR4en | TLR4 recycling
40 | TLR4LPS -> TLR4LPSen | p40*TLR4LPS | TLR4:LPS endocytosis
41 | TLR4LPSen -> TLR4LPS | p41*TLR4LPSen | TLR4:LPS recycling
42 | CD14LPSen -> 0 | p42*CD14LPSen | endosomal CD14:LPS degradation
43 | TLR4en -> 0 | p43*TLR4en | endosomal TLR4 degradation
44 | TLR4LPSen -> 0 | p44*TLR4LPSen | endosomal TLR4:LPS degradation
45 | MyD88_off -> MyD88 | p45*hill(TLR4LPS, p45n2, p45n3)*MyD88_off | MyD88 activation by TLR4LPS (modifier)
46 | MyD88 -> MyD88_off | p46*MyD88 | MyD88 deactivation
47 | TRIF_off -> TRIF | p47*TRIF_off*TLR4LPSen | TRIF activation by TLR4LPSen (modifier)
48 | TRIF -> TRIF_off | p48*TRIF | TRIF deactivation
49 | TRAF6_off -> TRAF6 | p49*MyD88*TRAF6_off | TRAF6 activation by MyD88 (modifier)
50 | TRAF6_off -> TRAF6 | p50*TRIF*TRAF6_off | TRAF6 activation by TRIF (modifier)
51 | TRAF6 -> TRAF6_off | p51*TRAF6 | TRAF6 deactivation
52 | TAK1_off -> TAK1 | p52*p52n2*TRAF6*TAK1_off | TAK1 activation by TRAF6 (modifier); p52n2 is a scale knob
53 | TNF -> 0 | p53*TNF | TNF decay in medium
54 | 0 -> TNFR | p54 | TNFR synthesis
55 | TNFR -> 0 | p55*TNFR | TNFR degradation
56 | p56n2 TNF + TNFR -> TNFR_TNF | p56*TNF*TNFR | TNF capture by TNFR (medium TNF consumed x0.001)
57 | TNFR_TNF -> p57n2 TNF + TNFR | p57*TNFR_TNF | TNF release (TNF returned x0.001)
58 | TNFR_TNF -> 0 | p58*TNFR_TNF | TNFR:TNF internalisation/degradation
59 | TNFR_TNF + TTR -> C1_off | p59*TNFR_TNF*TTR | TTR (TRADD/TRAF2/RIP1) recruitment → complex C1_off
60 | C1_off -> TNFR_TNF + TTR | p60*C1_off | C1_off dissociation
61 | C1_off -> 0 | p61*C1_off | C1_off internalisation/degradation
62 | C1_off -> C1 | p62*C1_off | C1 activation
63 | C1 -> C1_off | p63*C1 | C1 inactivation
64 | C1 -> 0 | p64*C1 | C1 internalisation/degradation
65 | TAK1_off -> TAK1 | p65*p65n2*C1*TAK1_off | TAK1 activation by C1 (modifier); p65n2 is a scale knob
66 | TAK1 -> TAK1_off | p66*TAK1 | TAK1 inactivation
67 | IKK_off -> IKK | p67*hill(TAK1, p67n2, p67n3)*IKK_off | IKK activation by TAK1 (modifier, Hill)
68 | 0 -> TLR2 | p68 | TLR2 synthesis
69 | TLR2 -> 0 | p69*TLR2 | TLR2 degradation
70 | CD14 + p70n2 Pam3CSK -> CD14_P3CSK | p70*Pam3CSK*CD14 | Pam3CSK capture by CD14 (medium ligand consumed x0.001)
71 | CD14_P3CSK -> CD14 + p71n2 Pam3CSK | p71*CD14_P3CSK | CD14:Pam3CSK dissociation (ligand returned x0.001)
72 | TLR2 + CD14_P3CSK -> TLR2_P3CSK | p72*CD14_P3CSK*TLR2 | TLR2 binds CD14:Pam3CSK
73 | CD14_P3CSK -> 0 | p73*CD14_P3CSK | CD14:Pam3CSK degradation
74 | TLR2_P3CSK -> TLR2 + CD14_P3CSK | p74*TLR2_P3CSK | TLR2:Pam3CSK dissociation
75 | TLR2_P3CSK -> 0 | p75*TLR2_P3CSK | TLR2:Pam3CSK degradation
76 | MyD88_off -> MyD88 | p76*hill(TLR2_P3CSK, p76n2, p76n3)*MyD88_off | MyD88 activation by TLR2_P3CSK (modifier)
77 | 0 -> TLR3 | p77 | TLR3 synthesis
78 | TLR3 -> 0 | p78*TLR3 | TLR3 degradation
79 | p79n4 polyIC -> polyIC_en | p79*hill(polyIC, p79n3, p79n2) | poly(I:C) uptake, saturable; note argument order (n = p79n3, K = p79n2)
80 | polyIC_en -> p80n2 polyIC | p80*polyIC_en | poly(I:C) release from endosome
81 | polyIC_en + TLR3 -> TLR3_polyIC | p81*polyIC_en*TLR3 | TLR3 binds endosomal poly(I:C)
82 | TLR3_polyIC -> polyIC_en + TLR3 | p82*TLR3_polyIC | TLR3:poly(I:C) dissociation
83 | TLR3_polyIC -> 0 | p83*TLR3_polyIC | TLR3:poly(I:C) degradation
84 | TRIF_off -> TRIF | p84*TRIF_off*TLR3_polyIC | TRIF activation by TLR3_polyIC (modifier)
85 | 0 -> TLR9 + TLR9_N | p85 | TLR9 synthesis (full + N-terminal fragment)
86 | TLR9 -> 0 | p86*TLR9 | TLR9 degradation
87 | TLR9_N -> 0 | p87*TLR9_N | TLR9_N degradation
88 | p88n4 CpG -> CpG_en | p88*hill(CpG, p88n3, p88n2) | CpG uptake, saturable; note argument order (n = p88n3, K = p88n2)
89 | CpG_en -> p89n2 CpG | p89*CpG_en | CpG exchange out of endosome
90 | CpG_en + TLR9 -> TLR9_CpG | p90*CpG_en*TLR9 | TLR9 binds endosomal CpG
91 | TLR9_CpG -> CpG_en + TLR9 | p91*TLR9_CpG | TLR9:CpG dissociation
92 | TLR9_CpG + TLR9_N -> 0 | p92*TLR9_CpG*TLR9_N | TLR9_N-mediated degradation of TLR9:CpG
93 | TLR9_CpG -> 0 | p93*TLR9_CpG | TLR9:CpG degradation
94 | MyD88_off -> MyD88 | p94*hill(TLR9_CpG, p94n2, p94n3)*MyD88_off | MyD88 activation by TLR9_CpG (modifier)
95 | NFkB -> 0 | p95*NFkB | cytoplasmic NF-kB loss (off, p95 = 0)
96 | IkBat -> IkBat_cas1 | p96*IkBat | transcript delay chain, stage 1
97 | IkBat_cas1 -> IkBat_cas2 | p97*IkBat_cas1 | transcript delay chain, stage 2
98 | IkBat_cas2 -> 0 | p98*IkBat_cas2 | decay of mature transcript IkBat_cas2
99 | 0 -> NFkBn_cas1 | p99*NFkBn | NF-kB signal delay chain input; NFkBn is **not** consumed
100 | NFkBn_cas1 -> NFkBn_cas2 | p100*NFkBn_cas1 | signal delay chain, stage 2
101 | NFkBn_cas2 -> 0 | p101*NFkBn_cas2 | signal delay chain output decay
"""
_PARAMETERS = """
p1 | 1 | 1/(uM*min) | #1: IKK activation by generic `stim` (modifier; stim has zero derivative)
p2 | 2e-05 | 1/min | #2: basal IKK activation
p3 | 2 | 1/min | #3: IKK inactivation (IKK cycling)
p4 | 18 | 1/min | #4: IKK recovery (IKK cycling)
p5 | 5e-07 | uM/min | #5: basal IkBa transcription (zero order)
p6 | 6e-05 | uM/min | #6: NF-kB-induced IkBa transcription, driven by delayed NFkBn_cas2 (modifier)
p6n2 | 2.938 | - | Hill exponent of #6: NF-kB-induced IkBa transcription, driven by delayed NFkBn_cas2 (modifier)
p6n3 | 0.1775 | uM | Hill constant of #6: NF-kB-induced IkBa transcription, driven by delayed NFkBn_cas2 (modifier)
p7 | 0.0577623 | 1/min | IkBa mRNA decay rate computed by the source but used in no equation (decay is #98)
p8 | 30 | 1/min | #8: IkBa translation from delayed transcript IkBat_cas2 (modifier, not consumed)
p9 | 0.0225 | 1/min | #9: IkBa nuclear import
p9n2 | 3.5 | - | volume-scale coefficient of #9: IkBa nuclear import
p10 | 0.6 | 1/min | #10: NF-kB nuclear import
p10n2 | 3.5 | - | volume-scale coefficient of #10: NF-kB nuclear import
p11 | 0.1575 | 1/min | #11: IkBa nuclear export
p11n2 | 1/3.5 | - | volume-scale coefficient of #11: IkBa nuclear export
p12 | 0.042 | 1/min | #12: NF-kB nuclear export
p12n2 | 1/3.5 | - | volume-scale coefficient of #12: NF-kB nuclear export
p13 | 0 | 1/min | #13: IkBa:NF-kB import (switched off)
p13n2 | 3.5 | - | volume-scale coefficient of #13: IkBa:NF-kB import (switched off)
p14 | 0.828 | 1/min | #14: IkBa:NF-kB export
p14n2 | 1/3.5 | - | volume-scale coefficient of #14: IkBa:NF-kB export
p15 | 0.0770164 | 1/min | #15: free IkBa degradation (cyto)
p16 | 0.0770164 | 1/min | #16: free IkBa degradation (nuc)
p17 | 200 | 1/(uM*min) | #17: IkBa–NF-kB association (cyto)
p18 | 200 | 1/(uM*min) | #18: IkBa–NF-kB association (nuc)
p19 | 0.008 | 1/min | #19: IkBa:NF-kB dissociation (cyto)
p20 | 0.008 | 1/min | #20: IkBa:NF-kB dissociation (nuc)
p21 | 190 | 1/(uM*min) | #21: IKK binds IkBa:NF-kB
p22 | 190 | 1/(uM*min) | #22: IKK binds free IkBa
p23 | 38 | 1/min | #23: IKK:IkBa:NF-kB dissociation
p24 | 38 | 1/min | #24: IKK:IkBa dissociation
p25 | 2 | 1/min | #25: IKK-mediated IkBa degradation in complex, frees NF-kB
p26 | 2 | 1/min | #26: IKK-mediated degradation of free IkBa
p27 | 8.75 | 1/(uM*min) | #27: LPS capture by CD14 (medium LPS consumed x0.001)
p27n2 | 0.001 | - | volume-scale coefficient of #27: LPS capture by CD14 (medium LPS consumed x0.001)
p28 | 0.07 | 1/min | #28: CD14:LPS dissociation (LPS returned x0.001)
p28n2 | 0.001 | - | volume-scale coefficient of #28: CD14:LPS dissociation (LPS returned x0.001)
p29 | 0.00112 | uM/min | #29: CD14 synthesis
p30 | 0.000878 | 1/min | #30: CD14 degradation
p31 | 5.543 | 1/(uM*min) | #31: TLR4 binds CD14:LPS (membrane)
p32 | 0.0277 | 1/min | #32: TLR4:LPS dissociation (membrane)
p33 | 5.543 | 1/(uM*min) | #33: TLR4 binds CD14:LPS (endosome)
p34 | 0.0277 | 1/min | #34: TLR4:LPS dissociation (endosome)
p35 | 5.25e-05 | uM/min | #35: TLR4 synthesis
p36 | 0.065681 | 1/min | #36: CD14:LPS endocytosis
p37 | 0.04 | 1/min | #37: CD14:LPS recycling
p38 | 0.028028 | 1/min | #38: constitutive TLR4 endocytosis
p39 | 0.5 | 1/min | #39: TLR4 recycling
p40 | 0.065681 | 1/min | #40: TLR4:LPS endocytosis
p41 | 0.04 | 1/min | #41: TLR4:LPS recycling
p42 | 0.07 | 1/min | #42: endosomal CD14:LPS degradation
p43 | 0.0653 | 1/min | #43: endosomal TLR4 degradation
p44 | 0.012 | 1/min | #44: endosomal TLR4:LPS degradation
p45 | 150 | 1/min | #45: MyD88 activation by TLR4LPS (modifier)
p45n2 | 3 | - | Hill exponent of #45: MyD88 activation by TLR4LPS (modifier)
p45n3 | 0.012448 | uM | Hill constant of #45: MyD88 activation by TLR4LPS (modifier)
p46 | 2600 | 1/min | #46: MyD88 deactivation
p47 | 6 | 1/(uM*min) | #47: TRIF activation by TLR4LPSen (modifier)
p48 | 0.2 | 1/min | #48: TRIF deactivation
p49 | 30 | 1/(uM*min) | #49: TRAF6 activation by MyD88 (modifier)
p50 | 0.4 | 1/(uM*min) | #50: TRAF6 activation by TRIF (modifier)
p51 | 0.125 | 1/min | #51: TRAF6 deactivation
p52 | 0.105 | 1/(uM*min) | #52: TAK1 activation by TRAF6 (modifier); p52n2 is a scale knob
p52n2 | 1 | - | scale knob of #52: TAK1 activation by TRAF6 (modifier); p52n2 is a scale knob
p53 | 0.0116 | 1/min | #53: TNF decay in medium
p54 | 8.224e-06 | uM/min | #54: TNFR synthesis
p55 | 0.02384 | 1/min | #55: TNFR degradation
p56 | 1100 | 1/(uM*min) | #56: TNF capture by TNFR (medium TNF consumed x0.001)
p56n2 | 0.001 | - | volume-scale coefficient of #56: TNF capture by TNFR (medium TNF consumed x0.001)
p57 | 0.021 | 1/min | #57: TNF release (TNF returned x0.001)
p57n2 | 0.001 | - | volume-scale coefficient of #57: TNF release (TNF returned x0.001)
p58 | 0.125 | 1/min | #58: TNFR:TNF internalisation/degradation
p59 | 34.08 | 1/(uM*min) | #59: TTR (TRADD/TRAF2/RIP1) recruitment → complex C1_off
p60 | 0.03812 | 1/min | #60: C1_off dissociation
p61 | 0.125 | 1/min | #61: C1_off internalisation/degradation
p62 | 1.875 | 1/min | #62: C1 activation
p63 | 320.3 | 1/min | #63: C1 inactivation
p64 | 0.125 | 1/min | #64: C1 internalisation/degradation
p65 | 1889 | 1/(uM*min) | #65: TAK1 activation by C1 (modifier); p65n2 is a scale knob
p65n2 | 1 | - | scale knob of #65: TAK1 activation by C1 (modifier); p65n2 is a scale knob
p66 | 0.5188 | 1/min | #66: TAK1 inactivation
p67 | 18.79 | 1/min | #67: IKK activation by TAK1 (modifier, Hill)
p67n2 | 2 | - | Hill exponent of #67: IKK activation by TAK1 (modifier, Hill)
p67n3 | 0.001116 | uM | Hill constant of #67: IKK activation by TAK1 (modifier, Hill)
p68 | 1e-06 | uM/min | #68: TLR2 synthesis
p69 | 0.0004 | 1/min | #69: TLR2 degradation
p70 | 1 | 1/(uM*min) | #70: Pam3CSK capture by CD14 (medium ligand consumed x0.001)
p70n2 | 0.001 | - | volume-scale coefficient of #70: Pam3CSK capture by CD14 (medium ligand consumed x0.001)
p71 | 1.8 | 1/min | #71: CD14:Pam3CSK dissociation (ligand returned x0.001)
p71n2 | 0.001 | - | volume-scale coefficient of #71: CD14:Pam3CSK dissociation (ligand returned x0.001)
p72 | 5.543 | 1/(uM*min) | #72: TLR2 binds CD14:Pam3CSK
p73 | 0.07 | 1/min | #73: CD14:Pam3CSK degradation
p74 | 0.02 | 1/min | #74: TLR2:Pam3CSK dissociation
p75 | 0.004 | 1/min | #75: TLR2:Pam3CSK degradation
p76 | 150 | 1/min | #76: MyD88 activation by TLR2_P3CSK (modifier)
p76n2 | 3 | - | Hill exponent of #76: MyD88 activation by TLR2_P3CSK (modifier)
p76n3 | 0.0032 | uM | Hill constant of #76: MyD88 activation by TLR2_P3CSK (modifier)
p77 | 3e-06 | uM/min | #77: TLR3 synthesis
p78 | 0.0007 | 1/min | #78: TLR3 degradation
p79 | 0.04 | uM/min | #79: poly(I:C) uptake, saturable; note argument order (n = p79n3, K = p79n2)
p79n2 | 0.03 | uM | Hill constant of #79: poly(I:C) uptake, saturable; note argument order (n = p79n3, K = p79n2)
p79n3 | 1 | - | Hill exponent of #79: poly(I:C) uptake, saturable; note argument order (n = p79n3, K = p79n2)
p79n4 | 0.001 | - | volume-scale coefficient of #79: poly(I:C) uptake, saturable; note argument order (n = p79n3, K = p79n2)
p80 | 0.04 | 1/min | #80: poly(I:C) release from endosome
p80n2 | 0.001 | - | volume-scale coefficient of #80: poly(I:C) release from endosome
p81 | 0.5 | 1/(uM*min) | #81: TLR3 binds endosomal poly(I:C)
p82 | 0.025 | 1/min | #82: TLR3:poly(I:C) dissociation
p83 | 0.0007 | 1/min | #83: TLR3:poly(I:C) degradation
p84 | 20 | 1/(uM*min) | #84: TRIF activation by TLR3_polyIC (modifier)
p85 | 2e-06 | uM/min | #85: TLR9 synthesis (full + N-terminal fragment)
p86 | 0.0004 | 1/min | #86: TLR9 degradation
p87 | 0.0004 | 1/min | #87: TLR9_N degradation
p88 | 0.015 | uM/min | #88: CpG uptake, saturable; note argument order (n = p88n3, K = p88n2)
p88n2 | 0.5 | uM | Hill constant of #88: CpG uptake, saturable; note argument order (n = p88n3, K = p88n2)
p88n3 | 1 | - | Hill exponent of #88: CpG uptake, saturable; note argument order (n = p88n3, K = p88n2)
p88n4 | 0.001 | - | volume-scale coefficient of #88: CpG uptake, saturable; note argument order (n = p88n3, K = p88n2)
p89 | 0.028 | 1/min | #89: CpG exchange out of endosome
p89n2 | 0.001 | - | volume-scale coefficient of #89: CpG exchange out of endosome
p90 | 3 | 1/(uM*min) | #90: TLR9 binds endosomal CpG
p91 | 0.5 | 1/min | #91: TLR9:CpG dissociation
p92 | 3 | 1/(uM*min) | #92: TLR9_N-mediated degradation of TLR9:CpG
p93 | 0.0016 | 1/min | #93: TLR9:CpG degradation
p94 | 200 | 1/min | #94: MyD88 activation by TLR9_CpG (modifier)
p94n2 | 3 | - | Hill exponent of #94: MyD88 activation by TLR9_CpG (modifier)
p94n3 | 0.0032 | uM | Hill constant of #94: MyD88 activation by TLR9_CpG (modifier)
p95 | 0 | 1/min | #95: cytoplasmic NF-kB loss (off, p95 = 0)
p96 | 0.33 | 1/min | #96: transcript delay chain, stage 1
p97 | 0.33 | 1/min | #97: transcript delay chain, stage 2
p98 | 0.0577623 | 1/min | #98: decay of mature transcript IkBat_cas2
p99 | 0.4 | 1/min | #99: NF-kB signal delay chain input; NFkBn is **not** consumed
p100 | 0.4 | 1/min | #100: signal delay chain, stage 2
p101 | 0.4 | 1/min | #101: signal delay chain output decay
"""


def reaction_rows() -> list[tuple[int, dict[str, float | str], dict[str, float | str], str, str]]:
    """Parsed reaction rows: ``(number, reactants, products, rate law, meaning)``.

    Coefficients are ``1.0`` or a parameter name (a volume-scale factor).
    """
    rows = []
    for line in _REACTIONS.strip().splitlines():
        num, scheme, law, meaning = (part.strip() for part in line.split("|"))
        left, right = (side.strip() for side in scheme.split("->"))
        rows.append((int(num), _side(left), _side(right), law, meaning))
    return rows


# Bounds the source gives (parameter_setting.xlsx, sheet param_setting_2023, min_val/max_val;
# NFkB_total from the model reference's 0.04-0.3 uM range). Other parameters have none.
BOUNDS: dict[str, tuple[float, float]] = {
    "p6n2": (0.5, 10.0), "p9n2": (2.0, 6.0), "p45n2": (0.5, 10.0), "p67n2": (0.5, 10.0),
    "p76n2": (0.5, 10.0), "p79n3": (0.5, 10.0), "p88n3": (0.5, 10.0), "p94n2": (0.5, 10.0),
    "p96": (0.01, 1.0), "p97": (0.01, 1.0), "p98": (0.005, 0.5), "p99": (0.01, 1.0),
    "p100": (0.01, 1.0), "p101": (0.01, 1.0), "NFkB_total": (0.04, 0.3),
}  # fmt: skip


def parameter_rows() -> list[tuple[str, float, str, str]]:
    """Parsed parameter rows: ``(name, value, units, meaning)``; units ``""`` if dimensionless."""
    rows = []
    for line in _PARAMETERS.strip().splitlines():
        name, value, units, meaning = (part.strip() for part in line.split("|"))
        num, _, den = value.partition("/")
        val = float(num) / float(den) if den else float(num)
        rows.append((name, val, "" if units == "-" else units, meaning))
    return rows


def _side(text: str) -> dict[str, float | str]:
    """``"p9n2 IkBan + IKK"`` -> ``{"IkBan": "p9n2", "IKK": 1.0}``; ``"0"`` -> ``{}``."""
    out: dict[str, float | str] = {}
    if text == "0":
        return out
    for term in text.split("+"):
        words = term.split()
        coef: float | str = words[0] if len(words) == 2 else 1.0
        out[words[-1]] = coef
    return out
