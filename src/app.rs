//! The article: its sections, in reading order, with the widgets placed inside the argument.

use leptos::prelude::*;

use crate::components::dataset_card::{DataCtx, DatasetCard};
use crate::components::gallery::Gallery;

#[component]
pub fn App() -> impl IntoView {
    provide_context(DataCtx::new());
    view! {
        <a class="skip-link" href="#data">"Skip to the dataset"</a>
        <main class="article" data-testid="article">
            <header class="hero">
                <p class="kicker">"An interactive article · MedMNIST v2"</p>
                <h1>"BreastMNIST Lab"</h1>
                <p class="lede">
                    "Seven hundred and eighty breast-ultrasound images, each shrunk to 28 × 28 pixels. "
                    "In this page you download them, look at every one, and — soon — train a ResNet on them "
                    "in your own browser tab."
                </p>
            </header>

            <section id="why" aria-labelledby="why-h">
                <h2 id="why-h">"Why BreastMNIST"</h2>
                <p>
                    "BreastMNIST is the smallest member of MedMNIST v2 (Yang et al., 2023): a binary task — "
                    "malignant versus normal or benign — on 780 ultrasound scans from the dataset of "
                    "Al-Dhabyani et al. (2020), split 546 / 78 / 156 for training, validation and test. "
                    "It is small enough to download in a blink and to train on in minutes, yet the best "
                    "published models stop near 0.92 test AUC, so there is real room to learn."
                </p>
            </section>

            <section id="data" aria-labelledby="data-h">
                <h2 id="data-h">"Step 1 · Download and verify"</h2>
                <p>
                    "The page fetches the official file and checks its size and MD5 against the values the "
                    "MedMNIST authors publish, before decoding a single pixel. Once verified, the file stays "
                    "in your browser's cache, so a reload does not download it again."
                </p>
                <DatasetCard />
            </section>

            <section id="gallery" aria-labelledby="gallery-h">
                <h2 id="gallery-h">"Step 2 · Look at the data"</h2>
                <p>
                    "Every image of every split. Filter by split or class and scroll; hover an image for its "
                    "split, index and label. Malignant masses tend to have irregular, blurred margins and "
                    "dark acoustic shadows; at 28 pixels much of that detail is gone — keep that in mind "
                    "when we ask a network to tell them apart."
                </p>
                <Gallery />
            </section>

            <section id="train" aria-labelledby="train-h">
                <h2 id="train-h">"Step 3 · Train a ResNet"</h2>
                <p class="pending">"The in-browser trainer is not part of this version of the page yet."</p>
            </section>

            <footer class="colophon">
                <p>
                    <strong>"Educational tool, not a diagnostic one."</strong>
                    " Nothing on this page is medical advice."
                </p>
                <p>
                    "Data: BreastMNIST from MedMNIST v2 (Yang et al., Scientific Data 2023; Zenodo record "
                    <a href="https://zenodo.org/records/10519652">"10519652"</a>
                    "), derived from Al-Dhabyani et al., “Dataset of breast ultrasound images”, Data in Brief 28 "
                    "(2020). Licensed "
                    <a href="https://creativecommons.org/licenses/by/4.0/">"CC BY 4.0"</a>"."
                </p>
            </footer>
        </main>
    }
}
